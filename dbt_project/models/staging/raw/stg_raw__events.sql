{#- One row per event_id: the latest load wins; then renamed, cast and cleaned. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'events'),
        key="trim(event_id)",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('events')
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
