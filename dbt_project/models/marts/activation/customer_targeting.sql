{{ config(materialized='table') }}

{#- The one table audiences select from: customer_360 + latest segment + latest churn score
    + latest customer value + contact fields + consent + erasure flag. The ml tables and the
    erasure ledger are optional (they may not exist yet on a first run): a missing one is
    replaced by an empty typed relation, so this model always builds. Contact fields are nulled for erased customers. -#}

{%- set segments = source('ml', 'customer_segments') -%}
{%- set churn = source('ml', 'churn_scores') -%}
{%- set value = source('ml', 'customer_value') -%}
{%- set ledger = source('erasure', 'erasure_ledger') -%}

{%- if execute -%}
    {%- set has_segments = adapter.get_relation(
        database=segments.database, schema=segments.schema, identifier=segments.identifier
    ) is not none -%}
    {%- set has_churn = adapter.get_relation(
        database=churn.database, schema=churn.schema, identifier=churn.identifier
    ) is not none -%}
    {%- set has_value = adapter.get_relation(
        database=value.database, schema=value.schema, identifier=value.identifier
    ) is not none -%}
    {%- set has_ledger = adapter.get_relation(
        database=ledger.database, schema=ledger.schema, identifier=ledger.identifier
    ) is not none -%}
{%- else -%}
    {%- set has_segments = false -%}
    {%- set has_churn = false -%}
    {%- set has_value = false -%}
    {%- set has_ledger = false -%}
{%- endif %}

with

customers as (

    select * from {{ ref('customer_360') }}

),

contacts as (

    select
        customer_id,
        email,
        phone,
        first_name,
        last_name,
        postal_code
    from {{ ref('stg_raw__customers') }}

),

segments_ranked as (

    {%- if has_segments %}
    select
        customer_id,
        cast(segment_id as {{ dbt.type_int() }}) as segment_id,
        cast(segment_name as {{ dbt.type_string() }}) as segment_name,
        row_number() over (
            partition by customer_id order by scored_at desc nulls last, model_version desc
        ) as score_rank
    from {{ segments }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_int() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        1 as score_rank
    where 1 = 0
    {%- endif %}

),

churn_ranked as (

    {%- if has_churn %}
    select
        customer_id,
        cast(churn_probability as {{ type_double() }}) as churn_probability,
        cast(risk_band as {{ dbt.type_string() }}) as risk_band,
        row_number() over (
            partition by customer_id order by scored_at desc nulls last, model_version desc
        ) as score_rank
    from {{ churn }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ type_double() }}) as churn_probability,
        cast(null as {{ dbt.type_string() }}) as risk_band,
        1 as score_rank
    where 1 = 0
    {%- endif %}

),

value_ranked as (

    {%- if has_value %}
    select
        customer_id,
        cast(p_alive as {{ type_double() }}) as p_alive,
        cast(expected_purchases_90d as {{ type_double() }}) as expected_purchases_90d,
        cast(expected_avg_order_value as {{ type_double() }}) as expected_avg_order_value,
        cast(predicted_revenue_90d as {{ type_double() }}) as predicted_revenue_90d,
        cast(predicted_revenue_365d as {{ type_double() }}) as predicted_revenue_365d,
        cast(predicted_revenue_90d_lower as {{ type_double() }}) as predicted_revenue_90d_lower,
        cast(predicted_revenue_90d_upper as {{ type_double() }}) as predicted_revenue_90d_upper,
        row_number() over (
            partition by customer_id order by scored_at desc nulls last, model_version desc
        ) as score_rank
    from {{ value }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ type_double() }}) as p_alive,
        cast(null as {{ type_double() }}) as expected_purchases_90d,
        cast(null as {{ type_double() }}) as expected_avg_order_value,
        cast(null as {{ type_double() }}) as predicted_revenue_90d,
        cast(null as {{ type_double() }}) as predicted_revenue_365d,
        cast(null as {{ type_double() }}) as predicted_revenue_90d_lower,
        cast(null as {{ type_double() }}) as predicted_revenue_90d_upper,
        1 as score_rank
    where 1 = 0
    {%- endif %}

),

erased as (

    {%- if has_ledger %}
    select distinct lower(customer_id_hash) as customer_id_hash
    from {{ ledger }}
    where customer_id_hash is not null
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as customer_id_hash
    where 1 = 0
    {%- endif %}

),

joined as (

    select
        customers.*,
        segments_ranked.segment_id,
        segments_ranked.segment_name,
        churn_ranked.churn_probability,
        churn_ranked.risk_band,
        value_ranked.p_alive,
        value_ranked.expected_purchases_90d,
        value_ranked.expected_avg_order_value,
        value_ranked.predicted_revenue_90d,
        value_ranked.predicted_revenue_365d,
        value_ranked.predicted_revenue_90d_lower,
        value_ranked.predicted_revenue_90d_upper,
        case when erased.customer_id_hash is null then contacts.email end as email,
        case when erased.customer_id_hash is null then contacts.phone end as phone,
        case when erased.customer_id_hash is null then contacts.first_name end as first_name,
        case when erased.customer_id_hash is null then contacts.last_name end as last_name,
        case when erased.customer_id_hash is null then contacts.postal_code end as postal_code,
        erased.customer_id_hash is not null as is_erased
    from customers
    left join contacts
        on customers.customer_id = contacts.customer_id
    left join segments_ranked
        on customers.customer_id = segments_ranked.customer_id
        and segments_ranked.score_rank = 1
    left join churn_ranked
        on customers.customer_id = churn_ranked.customer_id
        and churn_ranked.score_rank = 1
    left join value_ranked
        on customers.customer_id = value_ranked.customer_id
        and value_ranked.score_rank = 1
    left join erased
        on {{ keyed_hash('customers.customer_id') }} = erased.customer_id_hash

)

select
    joined.*,
    coalesce(joined.marketing_consent, false) and not joined.is_erased as is_marketable
from joined
