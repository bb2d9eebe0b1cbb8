{#- Completed-order demand per day x category x store region up to the as-of date, every
    combination present (zero-filled). An order's total_amount is spread over its categories
    in proportion to line revenue, so revenue here adds up to fct_orders; orders without
    lines (e.g. orders-only data) count under category 'unknown'. Revenue is in the base
    currency, rounded to cents per day x category x region. -#}

with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

orders as (

    select
        orders.order_id,
        orders.order_date,
        coalesce(orders.store_region, 'unknown') as store_region,
        coalesce(orders.total_amount_base, 0) as total_amount
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.is_completed and orders.order_date <= as_of.as_of_date

),

lines as (

    select
        order_items.order_id,
        order_items.category,
        sum(order_items.quantity) as units,
        sum(order_items.line_revenue_base) as line_revenue,
        count(*) as line_count
    from {{ ref('fct_order_items') }} as order_items
    inner join orders on order_items.order_id = orders.order_id
    group by order_items.order_id, order_items.category

),

line_totals as (

    select
        order_id,
        sum(line_revenue) as order_line_revenue,
        sum(line_count) as order_line_count
    from lines
    group by order_id

),

order_categories as (

    select
        orders.order_id,
        orders.order_date,
        orders.store_region,
        coalesce(lines.category, 'unknown') as category,
        coalesce(lines.units, 0) as units,
        orders.total_amount * case
            when lines.order_id is null then 1.0
            when line_totals.order_line_revenue > 0
                then lines.line_revenue / line_totals.order_line_revenue
            else 1.0 * lines.line_count / line_totals.order_line_count
        end as revenue
    from orders
    left join lines on orders.order_id = lines.order_id
    left join line_totals on orders.order_id = line_totals.order_id

),

observed as (

    select
        order_date,
        category,
        store_region,
        count(distinct order_id) as orders,
        sum(units) as units,
        sum(revenue) as revenue
    from order_categories
    group by order_date, category, store_region

),

spine as (

    select days.date_day
    from {{ days_between(
        '(select min(order_date) from orders)',
        '(select as_of_date from as_of)'
    ) }} as days

),

categories as (

    select distinct category from order_categories

),

regions as (

    select distinct store_region from order_categories

)

select
    spine.date_day as demand_date,
    categories.category,
    regions.store_region,
    cast(coalesce(observed.orders, 0) as {{ dbt.type_bigint() }}) as orders,
    cast(coalesce(observed.units, 0) as {{ dbt.type_bigint() }}) as units,
    {{ to_money('coalesce(observed.revenue, 0)') }} as revenue
from spine
cross join categories
cross join regions
left join observed
    on spine.date_day = observed.order_date
    and categories.category = observed.category
    and regions.store_region = observed.store_region
