{{
    config(
        materialized=incremental_materialization(),
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per event_id: the latest load wins; then renamed, cast and cleaned.

    Materialized (the only copy of the events outside raw) and incremental on the load time:
    a run only dedupes and writes raw rows loaded within var('lookback_days') of the latest
    load already here (delete+insert on event_id). That equals a full refresh because a later
    load always wins: a key's rows loaded before the bound never beat one loaded after it, so
    deduplicating the recent rows among themselves finds each recent key's winner. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'events'),
        key="trim(event_id)",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('events'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'events'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('product_id') }} as product_id,

        -- enums
        {{ clean_enum('event_type') }} as event_type,
        {{ clean_enum('device') }} as device,
        {{ clean_enum('channel') }} as channel,

        -- payload
        properties,

        -- timestamps
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
