-- Revenue of completed orders in raw (deduplicated here independently: latest load wins)
-- equals revenue of completed orders in fct_orders. Returns a row when they differ.
with

raw_ranked as (

    select
        trim(order_id) as order_id,
        lower(trim(status)) as status,
        total_amount,
        customer_id,
        ordered_at,
        row_number() over (
            partition by trim(order_id)
            order by _loaded_at desc nulls last, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('raw', 'orders') }}
    where order_id is not null

),

raw_revenue as (

    select
        count(*) as completed_orders,
        coalesce(sum(total_amount), 0) as revenue
    from raw_ranked
    where version_rank = 1
        and status = 'completed'
        and customer_id is not null
        and ordered_at is not null

),

fct_revenue as (

    select
        count(*) as completed_orders,
        coalesce(sum(total_amount), 0) as revenue
    from {{ ref('fct_orders') }}
    where is_completed

)

select
    raw_revenue.completed_orders as raw_completed_orders,
    fct_revenue.completed_orders as fct_completed_orders,
    raw_revenue.revenue as raw_revenue,
    fct_revenue.revenue as fct_revenue
from raw_revenue
cross join fct_revenue
where raw_revenue.completed_orders <> fct_revenue.completed_orders
    or abs(raw_revenue.revenue - fct_revenue.revenue) > 0.005 + 0.000001 * abs(raw_revenue.revenue)
