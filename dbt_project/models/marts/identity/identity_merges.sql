{{
    config(
        materialized='incremental',
        unique_key='merged_person_id',
        incremental_strategy='delete+insert',
        full_refresh=false,
    )
}}

{#- One row per person absorbed by another: when a run joined identifiers of several earlier
    persons into one, the oldest kept its id (marts.identity_map) and each other one is
    recorded here with the surviving id, so ids that analysts or exports saw can be followed.
    Appended (incremental) right after identity_map, which carries previous_person_id for
    the run that changed it. customer_id: the surviving person's primary record (erasure). -#}

select
    previous_person_id as merged_person_id,
    min(person_id) as person_id,
    min(customer_id) as customer_id,
    count(*) as identifiers_moved,
    {{ dbt.current_timestamp() }} as merged_at
from {{ ref('identity_map') }}
where previous_person_id <> person_id
    and identifier_type = 'customer_id'
{%- if is_incremental() %}
    and previous_person_id not in (select merged_person_id from {{ this }})
{%- endif %}
group by previous_person_id
