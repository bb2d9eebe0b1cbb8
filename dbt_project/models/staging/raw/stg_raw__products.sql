{{
    config(
        materialized=incremental_materialization(),
        unique_key='product_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per product_id: the latest load wins; then renamed, cast and cleaned.
    Incremental on the load time like stg_raw__events (see there): a run dedupes only rows
    loaded within var('lookback_days') of the latest load here; delete+insert on product_id. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'products'),
        key="trim(product_id)",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('products'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'products'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        {{ clean_text('product_id') }} as product_id,

        -- text
        {{ clean_text('name') }} as product_name,
        coalesce({{ clean_enum('category') }}, 'unknown') as category,
        {{ clean_text('brand') }} as brand,

        -- numerics
        cast(unit_price as {{ type_money() }}) as unit_price,
        cast(unit_cost as {{ type_money() }}) as unit_cost,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
