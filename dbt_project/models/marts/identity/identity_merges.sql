{{
    config(
        materialized=incremental_materialization(),
        unique_key='merged_person_id',
        incremental_strategy='delete+insert',
        full_refresh=false,
        pre_hook=["{{ keep_previous_state() }}"],
    )
}}

{#- One row per person absorbed by another: when a run joined identifiers of several earlier
    persons into one, the oldest kept its id (marts.identity_map) and each other one is
    recorded here with the surviving id, so ids that analysts or exports saw can be followed.
    Appended (incremental) right after identity_map, which carries previous_person_id for
    the run that changed it. customer_id: the surviving person's primary record (erasure).
    The earlier rows are carried_state() (macros/engines.sql): kept in place by the
    incremental append on DuckDB, carried over into the rebuilt table on Spark. -#}

{%- set previous_merges = carried_state() %}

select
    previous_person_id as merged_person_id,
    min(person_id) as person_id,
    min(customer_id) as customer_id,
    count(*) as identifiers_moved,
    {{ dbt.current_timestamp() }} as merged_at
from {{ ref('identity_map') }}
where previous_person_id <> person_id
    and identifier_type = 'customer_id'
{%- if previous_merges is not none %}
    and previous_person_id not in (select merged_person_id from {{ previous_merges }})
{%- endif %}
group by previous_person_id
{%- if previous_merges is not none and not is_incremental() %}

union all

select merged_person_id, person_id, customer_id, identifiers_moved, merged_at
from {{ previous_merges }}
{%- endif %}
