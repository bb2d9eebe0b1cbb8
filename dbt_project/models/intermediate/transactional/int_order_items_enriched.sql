{#- Order lines with their product's category, brand and cost. Lines whose product is unknown
    keep category 'unknown' and a null cost. The line revenue is in the order's currency; the
    facts convert it (and the margin) to the base currency. -#}

with

order_items as (

    select * from {{ ref('stg_raw__order_items') }}

),

products as (

    select * from {{ ref('stg_raw__products') }}

)

select
    -- ids
    order_items.order_item_id,
    order_items.order_id,
    order_items.product_id,

    -- product attributes
    coalesce(products.category, 'unknown') as category,
    products.brand,
    products.product_id is not null as is_known_product,

    -- numerics
    order_items.quantity,
    order_items.unit_price,
    order_items.discount_amount,
    -- in the order's currency
    {{ to_money('order_items.quantity * order_items.unit_price - order_items.discount_amount') }}
        as line_revenue,
    -- in the base currency (a catalogue's prices and costs are, see segmint.contract)
    products.unit_cost,
    {{ to_money('order_items.quantity * products.unit_cost') }} as line_cost,

    -- lineage: the latest load of the line or of its product
    case
        when products._loaded_at > order_items._loaded_at then products._loaded_at
        else order_items._loaded_at
    end as _loaded_at

from order_items
left join products on order_items.product_id = products.product_id
