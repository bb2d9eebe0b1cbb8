{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per order (deduplicated), with line counts from its order items and its amounts
    in the base currency beside the original ones. Holds every order: the as-of cut happens
    in the features, not here.
    Incremental: orders whose header, lines, products or rate were loaded within
    var('lookback_days') of the latest load are rebuilt. -#}

with

{{ order_fact_ctes('orders', 'scoped_orders') }},

line_totals as (

    select
        order_lines.order_id,
        count(*) as items,
        sum(order_lines.quantity) as units,
        case
            when count(*) = count(order_lines.line_cost) and max(scoped_orders.fx_rate_to_base) is not null
                then sum({{ to_base('order_lines.line_revenue', 'scoped_orders.fx_rate_to_base') }}
                    - order_lines.line_cost)
        end as gross_margin,
        max(order_lines._loaded_at) as lines_loaded_at
    from order_lines
    inner join scoped_orders on order_lines.order_id = scoped_orders.order_id
    group by order_lines.order_id

)

select
    -- ids
    scoped_orders.order_id,
    scoped_orders.customer_id,

    -- timestamps
    scoped_orders.ordered_at,
    cast(scoped_orders.ordered_at as date) as order_date,

    -- enums
    scoped_orders.status,
    scoped_orders.channel,
    scoped_orders.store_region,

    -- money: as paid (in currency) and in the base currency (null without a usable rate)
    scoped_orders.currency,
    scoped_orders.total_amount,
    scoped_orders.discount_amount,
    scoped_orders.fx_rate_to_base,
    scoped_orders.fx_rate_date,
    scoped_orders.total_amount_base,
    scoped_orders.discount_amount_base,
    {{ to_money('line_totals.gross_margin') }} as gross_margin,

    -- numerics
    cast(line_totals.items as {{ dbt.type_bigint() }}) as items,
    cast(line_totals.units as {{ dbt.type_bigint() }}) as units,
    coalesce(scoped_orders.status = 'completed', false) as is_completed,

    -- lineage
    case
        when line_totals.lines_loaded_at > scoped_orders._loaded_at then line_totals.lines_loaded_at
        else scoped_orders._loaded_at
    end as _loaded_at

from scoped_orders
left join line_totals on scoped_orders.order_id = line_totals.order_id
