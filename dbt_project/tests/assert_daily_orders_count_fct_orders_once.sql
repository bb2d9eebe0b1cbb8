-- daily_orders counts every completed order up to the as-of date exactly once, however
-- many categories its basket spans (the total demand forecast's target).
with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

orders as (

    select count(*) as orders
    from {{ ref('fct_orders') }}
    cross join as_of
    where is_completed and order_date <= as_of.as_of_date

),

daily as (

    select coalesce(sum(orders), 0) as orders
    from {{ ref('daily_orders') }}

)

select orders.orders as fct_orders, daily.orders as daily_orders
from orders
cross join daily
where orders.orders != daily.orders
