{{ config(materialized='table') }}

{#- Treated vs control members of past export runs, for the uplift model (ml/uplift). One row
    per (run_id, customer_id) of activation.audience_run_members whose run succeeded and whose
    outcome window has passed: as_of_date + var('uplift_window_days') (30) <= the as-of date.
    treated = exported (not in the holdout). Features are the member's int_customer_features
    as of the run's as_of_date (the send cutoffs of int_customer_cutoffs: only rows before the
    day after it), so nothing from after the send leaks in. Outcome: a completed order with
    as_of_date < order_date <= as_of_date + window (purchased), and the sum of those orders'
    total_amount_base (revenue, base currency, 0 when none). Empty before the first export. -#}

{%- set window_days = var('uplift_window_days', 30) | int -%}
{%- set runs_source = source('activation', 'audience_runs') -%}
{%- set members_source = source('activation', 'audience_run_members') -%}
{%- set has_exports = relations_exist([runs_source, members_source]) %}
{%- set features = [
    'age', 'tenure_days', 'recency_days', 'frequency', 'monetary', 'avg_order_value',
    'orders_30d', 'orders_90d', 'orders_prev_90d', 'revenue_90d', 'mean_interpurchase_days',
    'cancel_rate', 'return_rate', 'discount_share', 'distinct_categories', 'sessions_30d',
    'sessions_90d', 'days_since_last_visit', 'email_open_rate', 'email_click_rate',
] %}

with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

runs as (

    {%- if has_exports %}
    select runs.run_id, runs.audience, cast(runs.as_of_date as date) as send_date
    from {{ runs_source }} as runs
    cross join as_of
    where runs.status = 'success'
        and runs.as_of_date is not null
        and cast({{ dbt.dateadd('day', window_days, 'cast(runs.as_of_date as date)') }} as date)
            <= as_of.as_of_date
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as date) as send_date
    where 1 = 0
    {%- endif %}

),

members as (

    {%- if has_exports %}
    select runs.run_id, runs.audience, runs.send_date, run_members.customer_id,
        not run_members.in_holdout as treated
    from {{ members_source }} as run_members
    inner join runs on run_members.run_id = runs.run_id
    where run_members.customer_id is not null
    {%- else %}
    select run_id, audience, send_date, cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_boolean() }}) as treated
    from runs
    {%- endif %}

),

outcome as (

    select
        members.run_id,
        members.customer_id,
        count(orders.order_id) > 0 as purchased,
        {{ to_money('coalesce(sum(orders.total_amount_base), 0)') }} as revenue
    from members
    left join {{ ref('fct_orders') }} as orders
        on members.customer_id = orders.customer_id
        and coalesce(orders.is_completed, false)
        and cast(orders.order_date as date) > members.send_date
        and cast(orders.order_date as date)
            <= {{ dbt.dateadd('day', window_days, 'members.send_date') }}
    group by members.run_id, members.customer_id

)

select
    -- ids
    members.run_id,
    members.audience,
    members.customer_id,
    members.send_date,
    cast({{ window_days }} as {{ dbt.type_int() }}) as window_days,

    -- treatment and outcome
    members.treated,
    outcome.purchased,
    outcome.revenue,

    -- features as of send_date
    {%- for column in features %}
    features.{{ column }},
    {%- endfor %}
    discounts.discount_share_index,
    discounts.discount_purchase_rate_lift

from members
inner join outcome
    on members.run_id = outcome.run_id and members.customer_id = outcome.customer_id
left join {{ ref('int_customer_features') }} as features
    on members.customer_id = features.customer_id
    and members.send_date = features.cutoff_date
left join {{ ref('int_customer_discounts') }} as discounts
    on members.customer_id = discounts.customer_id
    and members.send_date = discounts.cutoff_date
