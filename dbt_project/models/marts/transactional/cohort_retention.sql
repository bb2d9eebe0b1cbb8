{#- Monthly cohort retention: customers grouped by the month of their first completed order,
    and for each month since then how many of them ordered again (completed orders up to the
    as-of date; every cohort x month up to the as-of month is present). -#}

with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

orders as (

    select
        orders.customer_id,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as order_month,
        orders.total_amount_base
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.is_completed and orders.order_date <= as_of.as_of_date

),

cohorts as (

    select
        customer_id,
        min(order_month) as cohort_month
    from orders
    group by customer_id

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by cohort_month

),

activity as (

    select
        cohorts.cohort_month,
        {{ dbt.datediff('cohorts.cohort_month', 'orders.order_month', 'month') }} as months_since_first_order,
        count(distinct orders.customer_id) as active_customers,
        count(*) as orders,
        sum(orders.total_amount_base) as revenue
    from orders
    inner join cohorts on orders.customer_id = cohorts.customer_id
    group by 1, 2

),

grid as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.n as months_since_first_order
    from cohort_sizes
    cross join as_of
    inner join {{ integers(3) }} as months
        on months.n <= {{ dbt.datediff(
            'cohort_sizes.cohort_month',
            'cast(' ~ dbt.date_trunc('month', 'as_of.as_of_date') ~ ' as date)',
            'month'
        ) }}

)

select
    grid.cohort_month,
    grid.months_since_first_order,
    cast({{ dbt.dateadd('month', 'grid.months_since_first_order', 'grid.cohort_month') }} as date)
        as activity_month,
    cast(grid.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    cast(coalesce(activity.active_customers, 0) as {{ dbt.type_bigint() }}) as active_customers,
    {{ safe_divide('coalesce(activity.active_customers, 0)', 'grid.cohort_size') }} as retention_rate,
    cast(coalesce(activity.orders, 0) as {{ dbt.type_bigint() }}) as orders,
    cast(coalesce(activity.revenue, 0) as {{ type_money() }}) as revenue
from grid
left join activity
    on grid.cohort_month = activity.cohort_month
    and grid.months_since_first_order = activity.months_since_first_order
