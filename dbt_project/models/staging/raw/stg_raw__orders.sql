{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per order_id: the latest load wins; then renamed, cast and cleaned.
    Incremental on the load time like stg_raw__events (see there): a run dedupes only rows
    loaded within var('lookback_days') of the latest load here; delete+insert on order_id. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'orders'),
        key="trim(order_id)",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('orders'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'orders'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,

        -- enums
        {{ clean_enum('status') }} as status,
        {{ clean_enum('channel') }} as channel,
        {{ clean_enum('store_region') }} as store_region,
        upper({{ clean_text('currency') }}) as currency,

        -- numerics
        cast(total_amount as {{ type_money() }}) as total_amount,
        cast(coalesce(discount_amount, 0) as {{ type_money() }}) as discount_amount,

        -- timestamps
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
