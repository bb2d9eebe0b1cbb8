-- daily_demand allocates each completed order's total_amount_base over its categories, so its
-- revenue and order count (for orders without lines) add up to fct_orders up to the as-of date.
with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

orders as (

    select
        count(*) as orders,
        coalesce(sum(coalesce(total_amount_base, 0)), 0) as revenue
    from {{ ref('fct_orders') }}
    cross join as_of
    where is_completed and order_date <= as_of.as_of_date

),

demand as (

    select coalesce(sum(revenue), 0) as revenue
    from {{ ref('daily_demand') }}

)

select orders.revenue as orders_revenue, demand.revenue as demand_revenue
from orders
cross join demand
where abs(orders.revenue - demand.revenue) > 0.01 + 0.000001 * abs(orders.revenue)
