{{
    config(
        materialized=incremental_materialization(),
        unique_key='fx_rate_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#- One row per (date, currency) from raw.fx_rates: the latest load wins; currency
    upper-cased, the rate as a DECIMAL. Incremental on the load time like stg_raw__events
    (see there); delete+insert on fx_rate_id. -#}

{%- set rate_date = adapter.quote('date') %}
{%- set rate_key = "case when " ~ rate_date ~ " is not null and trim(currency) <> '' then "
    ~ dbt.concat([dbt.cast(rate_date, dbt.type_string()), "'|'", "upper(trim(currency))"]) ~ " end" %}

with

source as (

    {{ deduplicate(
        relation=source('raw', 'fx_rates'),
        key=rate_key,
        order_by='_loaded_at desc nulls last, _source_file desc, _source_line desc',
        columns=raw_columns('fx_rates'),
        where=('_loaded_at > ' ~ incremental_load_bound(source('raw', 'fx_rates'))) if is_incremental() else none
    ) | indent(4) }}

),

renamed as (

    select
        -- ids
        {{ dbt.hash(rate_key) }} as fx_rate_id,

        -- rate
        cast({{ rate_date }} as date) as rate_date,
        upper({{ clean_text('currency') }}) as currency,
        cast(rate_to_base as {{ type_rate() }}) as rate_to_base,

        -- lineage
        _source_file,
        _source_line,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
