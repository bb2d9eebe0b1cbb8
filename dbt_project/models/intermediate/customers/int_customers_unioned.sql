{{ config(materialized='table') }}

{#- Every customer: each customer_id in raw customers or seen in orders (orders-only data has
    no customers table), with the moment each one is first known to exist, and customer_key,
    the pseudonymous key: computed here only, every other model takes it from here. A table:
    int_customer_universe, int_customer_profiles, dim_customers and several tests read it. -#}

with

profiles as (

    select customer_id, signup_at from {{ ref('stg_raw__customers') }}

),

order_customers as (

    select
        customer_id,
        min(ordered_at) as first_order_at
    from {{ ref('stg_raw__orders') }}
    where customer_id is not null
    group by customer_id

),

unioned as (

    select customer_id from profiles
    union
    select customer_id from order_customers

)

select
    unioned.customer_id,
    {{ keyed_hash('unioned.customer_id') }} as customer_key,
    profiles.customer_id is not null as has_profile,
    profiles.signup_at,
    order_customers.first_order_at,
    case
        when profiles.signup_at is null then order_customers.first_order_at
        when order_customers.first_order_at is null then profiles.signup_at
        when profiles.signup_at < order_customers.first_order_at then profiles.signup_at
        else order_customers.first_order_at
    end as exists_from
from unioned
left join profiles on unioned.customer_id = profiles.customer_id
left join order_customers on unioned.customer_id = order_customers.customer_id
