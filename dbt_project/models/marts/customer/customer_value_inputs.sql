{#- The buy-till-you-die inputs of the customer-value model (ml/value), in the conventions of
    PyMC-Marketing's rfm_summary (time unit: days, one period = one calendar day): per customer
    with a completed order by the cutoff, frequency = repeat purchase days (days with a
    completed order after the first one, not orders), recency = days from the first to the last
    purchase day, T = days from the first purchase day to the cutoff, monetary_value = mean
    base-currency value of the repeat purchase days (0 without one). Two cutoffs: the as-of
    date (scored) and as_of - var('value_evaluation_days') (the time-split evaluation), whose
    rows also carry the real purchase days and revenue of the window after the cutoff. -#}

{%- set window_days = var('value_evaluation_days', 90) | int %}

with

cutoffs as (

    select
        as_of_date,
        as_of_date as cutoff_date,
        cast('as_of' as {{ dbt.type_string() }}) as cutoff_kind
    from {{ ref('int_as_of') }}

    union all

    select
        as_of_date,
        {{ days_before('as_of_date', window_days) }} as cutoff_date,
        'evaluation' as cutoff_kind
    from {{ ref('int_as_of') }}

),

purchase_days as (

    -- one period of the model: a calendar day with at least one completed order
    select
        customer_id,
        order_date as purchase_date,
        sum(coalesce(total_amount_base, 0)) as day_value
    from {{ ref('fct_orders') }}
    where is_completed
    group by customer_id, order_date

),

history as (

    select
        cutoffs.cutoff_date,
        purchase_days.customer_id,
        purchase_days.purchase_date,
        purchase_days.day_value,
        row_number() over (
            partition by cutoffs.cutoff_date, purchase_days.customer_id
            order by purchase_days.purchase_date
        ) as day_number
    from purchase_days
    inner join cutoffs on purchase_days.purchase_date <= cutoffs.cutoff_date

),

summary as (

    select
        cutoff_date,
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        sum(day_value) as revenue_to_date,
        {{ mean_money('case when day_number > 1 then day_value end') }} as repeat_day_value
    from history
    group by cutoff_date, customer_id

),

outcome as (

    select
        cutoffs.cutoff_date,
        purchase_days.customer_id,
        count(*) as purchase_days_after,
        sum(purchase_days.day_value) as revenue_after
    from purchase_days
    inner join cutoffs
        on purchase_days.purchase_date > cutoffs.cutoff_date
        and purchase_days.purchase_date <= cast({{ dbt.dateadd('day', window_days, 'cutoffs.cutoff_date') }} as date)
    where cutoffs.cutoff_kind = 'evaluation'
    group by cutoffs.cutoff_date, purchase_days.customer_id

)

select
    -- keys
    summary.customer_id,
    cutoffs.cutoff_date,
    cutoffs.cutoff_kind,
    cutoffs.as_of_date,

    -- the model's inputs (days)
    cast(summary.purchase_days - 1 as {{ dbt.type_bigint() }}) as frequency,
    cast({{ dbt.datediff('summary.first_purchase_date', 'summary.last_purchase_date', 'day') }}
        as {{ dbt.type_bigint() }}) as recency,
    cast({{ dbt.datediff('summary.first_purchase_date', 'cutoffs.cutoff_date', 'day') }}
        as {{ dbt.type_bigint() }}) as tenure_days,
    cast(coalesce(summary.repeat_day_value, 0) as {{ type_money() }}) as monetary_value,

    -- history
    summary.first_purchase_date,
    summary.last_purchase_date,
    cast(summary.revenue_to_date as {{ type_money() }}) as revenue_to_date,

    -- outcome window (evaluation cutoff only; null at the as-of cutoff)
    cast({{ window_days }} as {{ dbt.type_int() }}) as window_days,
    case when cutoffs.cutoff_kind = 'evaluation'
        then cast(coalesce(outcome.purchase_days_after, 0) as {{ dbt.type_bigint() }}) end
        as purchase_days_after,
    case when cutoffs.cutoff_kind = 'evaluation'
        then cast(coalesce(outcome.revenue_after, 0) as {{ type_money() }}) end as revenue_after

from summary
inner join cutoffs on summary.cutoff_date = cutoffs.cutoff_date
left join outcome
    on summary.cutoff_date = outcome.cutoff_date
    and summary.customer_id = outcome.customer_id
