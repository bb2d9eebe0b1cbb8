{#- Distinct completed orders per day x store region x customer country up to the as-of date.
    An order has one region and one customer, so these rows add up to distinct orders at
    every level without a category: a day's total, a region's day. (daily_demand counts an
    order once per category it contains, which is right per category but not summed over
    them.) Every day x region is present (zero-filled, customer_country null on empty days);
    the country split also gives each region's most common customer country (holidays). -#}

with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

orders as (

    select
        orders.order_id,
        orders.order_date,
        coalesce(orders.store_region, 'unknown') as store_region,
        customers.country as customer_country
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    left join {{ ref('dim_customers') }} as customers
        on orders.customer_id = customers.customer_id
    where orders.is_completed and orders.order_date <= as_of.as_of_date

),

observed as (

    select
        order_date,
        store_region,
        customer_country,
        count(distinct order_id) as orders
    from orders
    group by order_date, store_region, customer_country

),

spine as (

    select days.date_day
    from {{ days_between(
        '(select min(order_date) from orders)',
        '(select as_of_date from as_of)'
    ) }} as days

),

regions as (

    select distinct store_region from orders

),

grid as (

    select spine.date_day, regions.store_region
    from spine
    cross join regions

)

select
    grid.date_day as demand_date,
    grid.store_region,
    observed.customer_country,
    cast(coalesce(observed.orders, 0) as {{ dbt.type_bigint() }}) as orders
from grid
left join observed
    on grid.date_day = observed.order_date
    and grid.store_region = observed.store_region
