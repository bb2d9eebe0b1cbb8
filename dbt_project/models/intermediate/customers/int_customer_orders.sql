{{ config(materialized='table') }}

{#- Order features of every customer at every cutoff: completed orders placed before cutoff_ts
    (recency, frequency, monetary, windows ending on cutoff_date, trends' inputs, rates over
    orders of any status, value, preferred channel). Amounts are in the base currency, as
    DECIMAL with cents (averages: DOUBLE rounded to cents). Counts and amounts are 0 without
    orders; dates, averages and rates are null. -#}

with

cutoffs as (

    select cutoff_date, cutoff_ts from {{ ref('int_customer_cutoffs') }}

),

orders_by_cutoff as (

    select
        cutoffs.cutoff_date,
        cutoffs.cutoff_ts,
        orders.*
    from {{ ref('fct_orders') }} as orders
    inner join cutoffs on orders.ordered_at < cutoffs.cutoff_ts

),

order_aggregates as (

    select
        cutoff_date,
        customer_id,
        count(*) as orders_total,
        sum(case when is_completed then 1 else 0 end) as frequency,
        min(case when is_completed then ordered_at end) as first_order_at,
        max(case when is_completed then ordered_at end) as last_order_at,
        sum(case when is_completed then coalesce(total_amount_base, 0) else 0 end) as monetary,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 30) }}
            then 1 else 0 end) as orders_30d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 90) }}
            then 1 else 0 end) as orders_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 180) }}
            and ordered_at < {{ ts_days_before('cutoff_ts', 90) }} then 1 else 0 end) as orders_prev_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 90) }}
            then coalesce(total_amount_base, 0) else 0 end) as revenue_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 180) }}
            and ordered_at < {{ ts_days_before('cutoff_ts', 90) }}
            then coalesce(total_amount_base, 0) else 0 end) as revenue_prev_90d,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_orders,
        sum(case when status = 'returned' then 1 else 0 end) as returned_orders,
        sum(case when is_completed then coalesce(discount_amount_base, 0) else 0 end) as discount_total,
        sum(case when is_completed then coalesce(total_amount_base, 0) + coalesce(discount_amount_base, 0)
            else 0 end) as gross_total,
        sum(case when is_completed then coalesce(gross_margin, total_amount_base, 0) else 0 end)
            as historical_clv
    from orders_by_cutoff
    group by cutoff_date, customer_id

),

channel_ranked as (

    select
        cutoff_date,
        customer_id,
        channel,
        row_number() over (
            partition by cutoff_date, customer_id order by count(*) desc, channel
        ) as channel_rank
    from orders_by_cutoff
    where is_completed and channel is not null
    group by cutoff_date, customer_id, channel

),

order_features as (

    select
        universe.customer_id,
        universe.cutoff_date,
        order_aggregates.first_order_at,
        order_aggregates.last_order_at,
        {{ dbt.datediff('cast(order_aggregates.last_order_at as date)', 'universe.cutoff_date', 'day') }}
            as recency_days,
        coalesce(order_aggregates.frequency, 0) as frequency,
        coalesce(order_aggregates.monetary, 0) as monetary,
        {{ round_double(safe_divide('order_aggregates.monetary', 'order_aggregates.frequency'), 2) }} as avg_order_value,
        coalesce(order_aggregates.orders_30d, 0) as orders_30d,
        coalesce(order_aggregates.orders_90d, 0) as orders_90d,
        coalesce(order_aggregates.orders_prev_90d, 0) as orders_prev_90d,
        coalesce(order_aggregates.revenue_90d, 0) as revenue_90d,
        coalesce(order_aggregates.revenue_prev_90d, 0) as revenue_prev_90d,
        case
            when order_aggregates.frequency > 1
                then {{ dbt.datediff('order_aggregates.first_order_at', 'order_aggregates.last_order_at', 'second') }}
                    / cast(86400 as {{ type_double() }}) / (order_aggregates.frequency - 1)
        end as mean_interpurchase_days,
        {{ safe_divide('order_aggregates.cancelled_orders', 'order_aggregates.orders_total') }} as cancel_rate,
        {{ safe_divide('order_aggregates.returned_orders', 'order_aggregates.orders_total') }} as return_rate,
        {{ safe_divide('order_aggregates.discount_total', 'order_aggregates.gross_total') }} as discount_share,
        coalesce(order_aggregates.historical_clv, 0) as historical_clv,
        channel_ranked.channel as preferred_channel
    from {{ ref('int_customer_universe') }} as universe
    left join order_aggregates
        on universe.cutoff_date = order_aggregates.cutoff_date
        and universe.customer_id = order_aggregates.customer_id
    left join channel_ranked
        on universe.cutoff_date = channel_ranked.cutoff_date
        and universe.customer_id = channel_ranked.customer_id
        and channel_ranked.channel_rank = 1

)

select
    -- keys
    customer_id,
    cutoff_date,

    -- recency, frequency, monetary
    first_order_at,
    last_order_at,
    recency_days,
    cast(frequency as {{ dbt.type_bigint() }}) as frequency,
    cast(monetary as {{ type_money() }}) as monetary,
    avg_order_value,

    -- windows
    cast(orders_30d as {{ dbt.type_bigint() }}) as orders_30d,
    cast(orders_90d as {{ dbt.type_bigint() }}) as orders_90d,
    cast(orders_prev_90d as {{ dbt.type_bigint() }}) as orders_prev_90d,
    cast(revenue_90d as {{ type_money() }}) as revenue_90d,
    cast(revenue_prev_90d as {{ type_money() }}) as revenue_prev_90d,

    -- rhythm, rates and value
    cast(mean_interpurchase_days as {{ type_double() }}) as mean_interpurchase_days,
    cancel_rate,
    return_rate,
    discount_share,
    cast(historical_clv as {{ type_money() }}) as historical_clv,
    preferred_channel

from order_features
