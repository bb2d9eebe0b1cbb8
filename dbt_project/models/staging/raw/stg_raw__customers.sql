{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per customer_id: the newest record wins, by the source's updated_at, whatever
    the order files were loaded in (a re-delivered old file must not bring back consent
    that was revoked since); on equal updated_at a revocation beats a grant; records without
    updated_at rank below those with one, then the latest load wins. Then renamed, cast and
    cleaned. Gender and country spellings are mapped through the seeds gender_aliases and
    country_aliases.
    Incremental on the load time like stg_raw__events (see there): a run re-ranks every row
    of each customer with a row loaded within var('lookback_days') of the latest load here
    (an older record loaded late must compete with the one already kept); delete+insert on
    customer_id (an edited alias seed reaches older rows with --full-refresh). -#}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'customers'),
        key="trim(customer_id)",
        order_by='updated_at desc nulls last, marketing_consent asc nulls last, _loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('customers'),
        where=(
            'trim(customer_id) in (select trim(customer_id) from ' ~ source('raw', 'customers')
            ~ ' where _loaded_at > ' ~ incremental_load_bound(source('raw', 'customers')) ~ ')'
        ) if is_incremental() else none
    ) | indent(4) }}

),

gender_aliases as (

    select alias as gender_alias, gender as gender_normalized from {{ ref('gender_aliases') }}

),

country_aliases as (

    select alias as country_alias, country_code from {{ ref('country_aliases') }}

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
        case
            when {{ clean_enum('gender') }} is null then 'unknown'
            else coalesce(gender_aliases.gender_normalized, 'other')
        end as gender,
        coalesce(country_aliases.country_code, upper({{ clean_enum('country') }})) as country,
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
    left join gender_aliases on {{ clean_enum('gender') }} = gender_aliases.gender_alias
    left join country_aliases on {{ clean_enum('country') }} = country_aliases.country_alias

)

select * from renamed
