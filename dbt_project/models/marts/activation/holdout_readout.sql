{{ config(materialized='table', schema='activation') }}

{#- Holdout readout: did exported members buy more than the holdout in the N days after?
    One row per successful export run with members: the run's members split into the exported
    and the holdout group, with outcomes from fct_orders. A member purchased when it has a
    completed order with as_of_date < order_date <= as_of_date + var('holdout_window_days')
    (30); its revenue is the sum of those orders' total_amount_base (0 when none). Uplift =
    exported - holdout; 95% intervals by the normal approximation: difference of two
    proportions (Wald) for the purchase rate, Welch's unequal-variance standard error for
    revenue per member (null below two members in a group). The activation tables are
    optional (they appear with the first export): without them the table is empty. -#}

{%- set window_days = var('holdout_window_days', 30) | int -%}
{%- if window_days < 1 -%}
    {{ exceptions.raise_compiler_error("var holdout_window_days must be at least 1, got " ~ var('holdout_window_days')) }}
{%- endif -%}
{%- set runs_source = source('activation', 'audience_runs') -%}
{%- set members_source = source('activation', 'audience_run_members') -%}
{%- set has_exports = relations_exist([runs_source, members_source]) %}

with

runs as (

    {%- if has_exports %}
    select run_id, audience, destination, as_of_date
    from {{ runs_source }}
    where status = 'success' and as_of_date is not null
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as {{ dbt.type_string() }}) as destination,
        cast(null as date) as as_of_date
    where 1 = 0
    {%- endif %}

),

members as (

    {%- if has_exports %}
    select runs.run_id, runs.as_of_date, run_members.customer_id, run_members.in_holdout
    from {{ members_source }} as run_members
    inner join runs on run_members.run_id = runs.run_id
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_boolean() }}) as in_holdout
    where 1 = 0
    {%- endif %}

),

orders as (

    select customer_id, cast(order_date as date) as order_date, total_amount_base, is_completed
    from {{ ref('fct_orders') }}

),

data_until as (

    select max(order_date) as last_order_date from orders

),

outcome as (

    select
        members.run_id,
        members.customer_id,
        members.in_holdout,
        count(orders.customer_id) > 0 as purchased,
        coalesce(sum(orders.total_amount_base), 0) as revenue
    from members
    left join orders
        on members.customer_id = orders.customer_id
        and coalesce(orders.is_completed, false)
        and orders.order_date > members.as_of_date
        and orders.order_date <= {{ dbt.dateadd('day', window_days, 'members.as_of_date') }}
    group by members.run_id, members.customer_id, members.in_holdout

),

groups as (

    select
        run_id,
        in_holdout,
        count(*) as members,
        sum(case when purchased then 1 else 0 end) as purchasers,
        {{ mean_of_decimal('revenue') }} as mean_revenue,
        coalesce(var_samp(revenue), 0) as var_revenue
    from outcome
    group by run_id, in_holdout

),

by_run as (

    select
        run_id,
        coalesce(max(case when not in_holdout then members end), 0) as exported_members,
        coalesce(max(case when in_holdout then members end), 0) as holdout_members,
        coalesce(max(case when not in_holdout then purchasers end), 0) as exported_purchasers,
        coalesce(max(case when in_holdout then purchasers end), 0) as holdout_purchasers,
        max(case when not in_holdout then mean_revenue end) as exported_mean,
        max(case when in_holdout then mean_revenue end) as holdout_mean,
        max(case when not in_holdout then var_revenue end) as exported_var,
        max(case when in_holdout then var_revenue end) as holdout_var
    from groups
    group by run_id

),

rates as (

    select
        by_run.*,
        case when exported_members > 0
            then cast(exported_purchasers as {{ type_double() }}) / cast(exported_members as {{ type_double() }})
        end as exported_rate,
        case when holdout_members > 0
            then cast(holdout_purchasers as {{ type_double() }}) / cast(holdout_members as {{ type_double() }})
        end as holdout_rate
    from by_run

),

errors as (

    select
        rates.*,
        sqrt(
            exported_rate * (1 - exported_rate) / exported_members
            + holdout_rate * (1 - holdout_rate) / holdout_members
        ) as rate_se,
        case when exported_members >= 2 and holdout_members >= 2
            then sqrt(exported_var / exported_members + holdout_var / holdout_members)
        end as revenue_se
    from rates

)

select
    runs.audience,
    runs.destination,
    runs.run_id,
    runs.as_of_date,
    cast({{ window_days }} as {{ dbt.type_int() }}) as window_days,
    cast({{ dbt.dateadd('day', window_days, 'runs.as_of_date') }} as date) as window_end,
    coalesce(
        data_until.last_order_date >= cast({{ dbt.dateadd('day', window_days, 'runs.as_of_date') }} as date),
        false
    ) as window_complete,
    cast(errors.exported_members as {{ dbt.type_bigint() }}) as exported_members,
    cast(errors.holdout_members as {{ dbt.type_bigint() }}) as holdout_members,
    cast(errors.exported_purchasers as {{ dbt.type_bigint() }}) as exported_purchasers,
    cast(errors.holdout_purchasers as {{ dbt.type_bigint() }}) as holdout_purchasers,
    errors.exported_rate as exported_purchase_rate,
    errors.holdout_rate as holdout_purchase_rate,
    errors.exported_rate - errors.holdout_rate as purchase_rate_uplift,
    -- z = 1.959963984540054: the two-sided 95% quantile of the standard normal
    errors.exported_rate - errors.holdout_rate
        - cast('1.959963984540054' as {{ type_double() }}) * errors.rate_se as purchase_rate_ci_low,
    errors.exported_rate - errors.holdout_rate
        + cast('1.959963984540054' as {{ type_double() }}) * errors.rate_se as purchase_rate_ci_high,
    errors.exported_mean as exported_revenue_per_member,
    errors.holdout_mean as holdout_revenue_per_member,
    errors.exported_mean - errors.holdout_mean as revenue_uplift,
    errors.exported_mean - errors.holdout_mean
        - cast('1.959963984540054' as {{ type_double() }}) * errors.revenue_se as revenue_ci_low,
    errors.exported_mean - errors.holdout_mean
        + cast('1.959963984540054' as {{ type_double() }}) * errors.revenue_se as revenue_ci_high,
    cast({{ utc_now() }} as {{ dbt.type_timestamp() }}) as computed_at
from errors
inner join runs on errors.run_id = runs.run_id
cross join data_until
