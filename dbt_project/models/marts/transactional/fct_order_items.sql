{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per order line of a known order, with the order's customer, time, status and
    region and the product's category and margin.
    Incremental: every line of an order whose header, lines or products were loaded within
    var('lookback_days') of the latest load is rewritten (delete+insert on order_id). -#}

with

{{ order_fact_ctes('order_lines', 'scoped_lines') }},

joined as (

    select
        -- ids
        scoped_lines.order_item_id,
        scoped_lines.order_id,
        scoped_lines.product_id,
        orders.customer_id,

        -- order attributes
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.status,
        coalesce(orders.status = 'completed', false) as is_completed,
        orders.channel,
        orders.store_region,

        -- product attributes
        scoped_lines.category,
        scoped_lines.brand,
        scoped_lines.is_known_product,

        -- numerics
        scoped_lines.quantity,

        -- money: in the order's currency, and in the base currency (null without a rate);
        -- the catalogue's unit_cost and line_cost are in the base currency
        orders.currency,
        scoped_lines.unit_price,
        scoped_lines.discount_amount,
        scoped_lines.line_revenue,
        orders.fx_rate_to_base,
        {{ to_base('scoped_lines.discount_amount', 'orders.fx_rate_to_base') }} as discount_amount_base,
        {{ to_base('scoped_lines.line_revenue', 'orders.fx_rate_to_base') }} as line_revenue_base,
        scoped_lines.unit_cost,
        scoped_lines.line_cost,
        cast(
            {{ to_base('scoped_lines.line_revenue', 'orders.fx_rate_to_base') }} - scoped_lines.line_cost
            as {{ type_money() }}
        ) as line_margin,

        -- lineage
        case
            when orders._loaded_at > scoped_lines._loaded_at then orders._loaded_at
            else scoped_lines._loaded_at
        end as _loaded_at

    from scoped_lines
    inner join orders on scoped_lines.order_id = orders.order_id

)

select * from joined
