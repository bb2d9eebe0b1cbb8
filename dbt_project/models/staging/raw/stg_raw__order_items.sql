{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_item_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per (order_id, product_id): the latest load wins; then renamed, cast and cleaned.
    Incremental on the load time like stg_raw__events (see there): a run dedupes only rows
    loaded within var('lookback_days') of the latest load here; delete+insert on order_item_id. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'order_items'),
        key="case when trim(order_id) <> '' and trim(product_id) <> '' then trim(order_id) || '|' || trim(product_id) end",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('order_items'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'order_items'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        case
            when trim(order_id) <> '' and trim(product_id) <> ''
                then {{ dbt.hash(dbt.concat(["trim(order_id)", "'|'", "trim(product_id)"])) }}
        end as order_item_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,

        -- numerics
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price as {{ type_money() }}) as unit_price,
        cast(coalesce(discount_amount, 0) as {{ type_money() }}) as discount_amount,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
