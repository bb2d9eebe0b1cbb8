{#- Frequently-bought-together pairs as of the as-of date: one row per ordered pair
    (product_id -> other_product_id) of known products that share at least
    var('affinity_min_orders') completed orders. support = share of all completed orders
    holding both; confidence = share of product_id's orders that also hold other_product_id;
    lift = confidence / share of orders holding other_product_id (> 1: bought together more
    often than chance). -#}

with

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

baskets as (

    select distinct
        order_items.order_id,
        order_items.product_id
    from {{ ref('fct_order_items') }} as order_items
    cross join as_of
    where order_items.is_completed
        and order_items.is_known_product
        and order_items.order_date <= as_of.as_of_date

),

order_count as (

    select count(distinct order_id) as orders from baskets

),

product_orders as (

    select product_id, count(*) as orders
    from baskets
    group by product_id

),

pairs as (

    select
        left_side.product_id,
        right_side.product_id as other_product_id,
        count(*) as orders_together
    from baskets as left_side
    inner join baskets as right_side
        on left_side.order_id = right_side.order_id
        and left_side.product_id <> right_side.product_id
    group by left_side.product_id, right_side.product_id
    having count(*) >= {{ var('affinity_min_orders') }}

)

select
    pairs.product_id,
    pairs.other_product_id,
    as_of.as_of_date,
    cast(pairs.orders_together as {{ dbt.type_bigint() }}) as orders_together,
    cast(this_product.orders as {{ dbt.type_bigint() }}) as product_orders,
    cast(other_product.orders as {{ dbt.type_bigint() }}) as other_product_orders,
    cast(pairs.orders_together as {{ type_double() }}) / order_count.orders as support,
    cast(pairs.orders_together as {{ type_double() }}) / this_product.orders as confidence,
    (cast(pairs.orders_together as {{ type_double() }}) / this_product.orders)
        / (cast(other_product.orders as {{ type_double() }}) / order_count.orders) as lift
from pairs
cross join order_count
cross join as_of
inner join product_orders as this_product on pairs.product_id = this_product.product_id
inner join product_orders as other_product on pairs.other_product_id = other_product.product_id
