{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per customer_id: the latest load wins; then renamed, cast and cleaned.
    Incremental on the load time like stg_raw__events (see there): a run dedupes only rows
    loaded within var('lookback_days') of the latest load here; delete+insert on customer_id. -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'customers'),
        key="trim(customer_id)",
        order_by='_loaded_at desc nulls last, updated_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('customers'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'customers'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        {{ clean_text('customer_id') }} as customer_id,

        -- contact (kept for activation; never exposed in dim_customers)
        lower({{ clean_text('email') }}) as email,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,

        -- demographics
        cast(birth_date as date) as birth_date,
        {{ normalize_gender('gender') }} as gender,
        {{ normalize_country('country') }} as country,
        {{ clean_text('city') }} as city,
        {{ clean_text('postal_code') }} as postal_code,

        -- acquisition and consent
        {{ clean_enum('acquisition_channel') }} as acquisition_channel,
        cast(marketing_consent as {{ dbt.type_boolean() }}) as marketing_consent,

        -- timestamps
        cast(signup_at as {{ dbt.type_timestamp() }}) as signup_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(
            coalesce(updated_at, signup_at, _loaded_at) as {{ dbt.type_timestamp() }}
        ) as record_updated_at,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
