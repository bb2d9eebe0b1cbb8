{#- One row per product_id: the latest load wins; then renamed, cast and cleaned. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'products'),
        key="trim(product_id)",
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('products')
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
        cast(unit_price as {{ type_double() }}) as unit_price,
        cast(unit_cost as {{ type_double() }}) as unit_cost,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
