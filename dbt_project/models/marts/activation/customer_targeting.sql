{{ config(materialized='table') }}

{#- The one table audiences select from: customer_360 + latest segment + latest churn score
    + the top var('targeting_recommendations') product suggestions (rec_<n>_product_id,
    rec_<n>_name, rec_<n>_price and, when var('product_url_template') is set, rec_<n>_url)
    + uplift (mean over the audiences of ml.uplift_scores, and its rank) + discount sensitivity
    + latest customer value (ml.customer_value)
    + contact fields + consent + erasure flag. The ml tables and the erasure ledger are optional
    (they may not exist yet on a first run): a missing one is replaced by an empty typed
    relation, so this model always builds. Contact fields are nulled for erased customers.
    One row per customer record (customer_360's grain); is_marketable only on a person's
    primary record (customer_360.is_primary_record), so an export sends each person once,
    with the contact data of their most recently updated consented record. -#}

{%- set segments = source('ml', 'customer_segments') -%}
{%- set churn = source('ml', 'churn_scores') -%}
{%- set uplift = source('ml', 'uplift_scores') -%}
{%- set value = source('ml', 'customer_value') -%}
{%- set ledger = source('erasure', 'erasure_ledger') -%}
{%- set recommendations = source('ml', 'recommendations') -%}
{%- set products = ref('stg_raw__products') -%}
{%- set rec_slots = var('targeting_recommendations') | int -%}
{%- set url_template = var('product_url_template', none) -%}

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
    {%- set has_recs = adapter.get_relation(
        database=recommendations.database, schema=recommendations.schema,
        identifier=recommendations.identifier
    ) is not none -%}
    {%- set has_uplift = adapter.get_relation(
        database=uplift.database, schema=uplift.schema, identifier=uplift.identifier
    ) is not none -%}
{%- else -%}
    {%- set has_recs = false -%}
    {%- set has_segments = false -%}
    {%- set has_churn = false -%}
    {%- set has_value = false -%}
    {%- set has_ledger = false -%}
    {%- set has_uplift = false -%}
{%- endif %}

with

customers as (

    -- one row per record; only a person's primary record is marketable (one row per person
    -- in every export), with the contact data of the person's most recent consented record
    select * from {{ ref('customer_360') }}

),

records as (

    select
        records.customer_id,
        persons.person_id,
        records.email,
        records.phone,
        records.first_name,
        records.last_name,
        records.postal_code,
        records.marketing_consent,
        records.record_updated_at
    from {{ ref('stg_raw__customers') }} as records
    left join {{ ref('identity_map') }} as persons
        on persons.identifier_type = 'customer_id' and persons.customer_id = records.customer_id

),

person_contacts as (

    -- a person's most recent consented record: the contact data their one row sends
    select person_id, customer_id as contact_customer_id
    from (
        select
            person_id,
            customer_id,
            row_number() over (
                partition by person_id
                order by record_updated_at desc nulls last, customer_id desc
            ) as contact_rank
        from records
        where person_id is not null and coalesce(marketing_consent, false)
    ) as ranked
    where contact_rank = 1

),

contacts as (

    -- per record: the person's most recent consented record's contact data, else its own
    select
        own.customer_id,
        coalesce(chosen.email, own.email) as email,
        coalesce(chosen.phone, case when chosen.customer_id is null then own.phone end) as phone,
        coalesce(chosen.first_name, own.first_name) as first_name,
        coalesce(chosen.last_name, own.last_name) as last_name,
        coalesce(chosen.postal_code, own.postal_code) as postal_code
    from records as own
    left join person_contacts on person_contacts.person_id = own.person_id
    left join records as chosen on chosen.customer_id = person_contacts.contact_customer_id

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

recommended as (

    {%- if has_recs %}
    select
        recs.customer_id,
        recs.rank,
        recs.product_id,
        products.product_name,
        products.unit_price
    from {{ recommendations }} as recs
    left join {{ products }} as products
        on recs.product_id = products.product_id
    where recs.rank <= {{ rec_slots }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_int() }}) as rank,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as product_name,
        cast(null as {{ type_money() }}) as unit_price
    {%- endif %}

),

uplift_means as (

    {%- if has_uplift %}
    select
        customer_id,
        avg(cast(uplift_purchase as {{ type_double() }})) as uplift_purchase,
        {{ money_of_double('avg(uplift_revenue)') }} as uplift_revenue
    from {{ uplift }}
    group by customer_id
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ type_double() }}) as uplift_purchase,
        cast(null as {{ type_money() }}) as uplift_revenue
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

recommended_wide as (

    select
        {%- for i in range(1, rec_slots + 1) %}
        max(case when rank = {{ i }} then product_id end) as rec_{{ i }}_product_id,
        max(case when rank = {{ i }} then product_name end) as rec_{{ i }}_name,
        max(case when rank = {{ i }} then unit_price end) as rec_{{ i }}_price,
        {%- if url_template %}
        max(case when rank = {{ i }} then replace('{{ url_template }}', '{product_id}', product_id) end)
            as rec_{{ i }}_url,
        {%- endif %}
        {%- endfor %}
        customer_id
    from recommended
    group by customer_id

),

uplift_ranked as (

    select
        customer_id,
        uplift_purchase,
        uplift_revenue,
        cume_dist() over (order by uplift_purchase) as uplift_purchase_pct
    from uplift_means
    where uplift_purchase is not null

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
        {%- for column in relation_columns(ref('customer_360'), except=['marketing_consent']) %}
        customers.{{ column }},
        {%- endfor %}
        customers.marketing_consent as record_marketing_consent,
        -- one row per person: only the primary record may be marketed to
        customers.marketing_consent and coalesce(customers.is_primary_record, true)
            as marketing_consent,
        segments_ranked.segment_id,
        segments_ranked.segment_name,
        churn_ranked.churn_probability,
        churn_ranked.risk_band,
        {%- for i in range(1, rec_slots + 1) %}
        recommended_wide.rec_{{ i }}_product_id,
        recommended_wide.rec_{{ i }}_name,
        recommended_wide.rec_{{ i }}_price,
        {%- if url_template %}
        recommended_wide.rec_{{ i }}_url,
        {%- endif %}
        {%- endfor %}
        uplift_ranked.uplift_purchase,
        uplift_ranked.uplift_revenue,
        uplift_ranked.uplift_purchase_pct,
        discounts.discount_share_index,
        discounts.discount_purchase_rate_lift,
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
    left join recommended_wide
        on customers.customer_id = recommended_wide.customer_id
    left join uplift_ranked
        on customers.customer_id = uplift_ranked.customer_id
    left join {{ ref('discount_sensitivity') }} as discounts
        on customers.customer_id = discounts.customer_id
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
