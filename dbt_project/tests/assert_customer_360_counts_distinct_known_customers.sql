-- customer_360 has exactly one row per distinct customer known by the as-of date: customers in
-- raw customers or raw orders whose signup or first order is before the end of the as-of day
-- (profiles with neither count too). Returns a row when the counts differ.
with

as_of as (

    select cutoff_ts from {{ ref('int_as_of') }}

),

raw_customers as (

    select trim(customer_id) as customer_id, min(signup_at) as signup_at
    from {{ source('raw', 'customers') }}
    where trim(customer_id) <> ''
    group by trim(customer_id)

),

raw_orders as (

    select trim(customer_id) as customer_id, min(ordered_at) as first_order_at
    from {{ source('raw', 'orders') }}
    where trim(customer_id) <> '' and trim(order_id) <> '' and ordered_at is not null
    group by trim(customer_id)

),

known as (

    select coalesce(raw_customers.customer_id, raw_orders.customer_id) as customer_id
    from raw_customers
    full outer join raw_orders on raw_customers.customer_id = raw_orders.customer_id
    cross join as_of
    where raw_orders.first_order_at < as_of.cutoff_ts
        or raw_customers.signup_at < as_of.cutoff_ts
        or (raw_orders.first_order_at is null and raw_customers.signup_at is null)

),

expected as (

    select count(distinct customer_id) as customers from known

),

actual as (

    select count(*) as row_count, count(distinct customer_id) as customers
    from {{ ref('customer_360') }}

)

select *
from expected
cross join actual
where actual.row_count <> expected.customers or actual.customers <> expected.customers
