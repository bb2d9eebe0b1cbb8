{{ config(materialized='table') }}

{#- One row: the as-of date of this run. var('as_of') (a date string) when given, else the
    date of the latest ordered_at / occurred_at in the data. cutoff_ts is the exclusive upper
    bound on timestamps (the start of the following day). -#}

{%- set as_of = var('as_of', none) -%}
{%- set has_as_of = as_of is not none and (as_of | string | trim | lower) not in ('', 'none', 'null') -%}

with

latest as (

    select max(latest_at) as latest_data_at
    from (
        select max(ordered_at) as latest_at from {{ ref('stg_raw__orders') }}
        union all
        select max(occurred_at) as latest_at from {{ ref('stg_raw__events') }}
    ) as maxima

),

resolved as (

    select
        {%- if has_as_of %}
        cast(cast('{{ as_of | string | trim }}' as {{ dbt.type_timestamp() }}) as date) as as_of_date,
        {%- else %}
        cast(coalesce(latest_data_at, {{ dbt.current_timestamp() }}) as date) as as_of_date,
        {%- endif %}
        latest_data_at
    from latest

)

select
    as_of_date,
    cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as {{ dbt.type_timestamp() }}) as cutoff_ts,
    latest_data_at,
    {{ 'true' if has_as_of else 'false' }} as is_as_of_given
from resolved
