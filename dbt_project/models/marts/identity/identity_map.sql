{{
    config(
        materialized=incremental_materialization(),
        unique_key=['identifier_type', 'identifier_hash'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook=["{{ keep_previous_state() }}"],
        post_hook=["{{ delete_tombstones('person_id is null') }}"],
    )
}}

{#- One row per stitched identifier (customer_id, email, phone, anonymous_id) with its person.

    person_id is stable across runs: each run reads the previous map ({{ this }}) and a
    component keeps the person_id its identifiers had; when a component holds identifiers of
    several earlier persons (a merge), the oldest person (earliest first_seen) keeps its id
    and previous_person_id keeps the absorbed one (marts.identity_merges records it). When
    a person splits, the part with the earliest identifier keeps the id. A new person's id is
    'p_' + the first 24 hex digits of the keyed hash of its smallest customer_id. Identifiers
    that no longer attach to anyone (now shared, or gone) are removed (written as tombstones
    with a null person_id, deleted by the post-hook). Never fully refreshed
    (full_refresh=false): that would renumber every person.
    customer_id: the record itself for customer_id rows, else the person's primary record;
    segmint forget deletes by it, so erasing a person removes every identifier of theirs.
    The previous map is carried_state() (macros/engines.sql: {{ this }} on DuckDB, a copy on
    Spark, which rebuilds the table and so writes no tombstones). -#}

{%- set previous_map = carried_state() %}

with

graph as (

    select
        identifier_type,
        {{ keyed_hash('identifier_value') }} as identifier_hash,
        customer_id,
        component_id,
        first_seen,
        last_seen
    from {{ ref('int_identity_graph') }}
    where component_id is not null

),

{%- if previous_map is not none %}

previous as (

    select identifier_type, identifier_hash, person_id from {{ previous_map }}

),

person_age as (

    select person_id, min(first_seen) as person_first_seen from {{ previous_map }} group by person_id

),

claims as (

    -- each earlier person a component holds, ranked: the oldest person wins the component
    select
        graph.component_id,
        previous.person_id,
        person_age.person_first_seen,
        min(graph.first_seen) as component_first_seen
    from graph
    inner join previous
        on previous.identifier_type = graph.identifier_type
        and previous.identifier_hash = graph.identifier_hash
    inner join person_age on person_age.person_id = previous.person_id
    group by graph.component_id, previous.person_id, person_age.person_first_seen

),

component_choice as (

    select component_id, person_id, component_first_seen
    from (
        select
            claims.*,
            row_number() over (
                partition by component_id
                order by person_first_seen asc nulls last, person_id
            ) as claim_rank
        from claims
    ) as ranked
    where claim_rank = 1

),

kept as (

    -- a person split over several components stays with the one seen first
    select component_id, person_id
    from (
        select
            component_choice.*,
            row_number() over (
                partition by person_id order by component_first_seen asc nulls last, component_id
            ) as keep_rank
        from component_choice
    ) as ranked
    where keep_rank = 1

),

{%- endif %}

components as (

    select distinct component_id from graph

),

assigned as (

    select
        components.component_id,
        {%- if previous_map is not none %}
        coalesce(
            kept.person_id,
            {{ dbt.concat(["'p_'", dbt.right(keyed_hash('components.component_id'), '24')]) }}
        ) as person_id
        {%- else %}
        {{ dbt.concat(["'p_'", dbt.right(keyed_hash('components.component_id'), '24')]) }}
            as person_id
        {%- endif %}
    from components
    {%- if previous_map is not none %}
    left join kept on kept.component_id = components.component_id
    {%- endif %}

),

current_map as (

    select
        -- ids
        graph.identifier_type,
        graph.identifier_hash,
        assigned.person_id,
        {%- if previous_map is not none %}
        coalesce(previous.person_id, assigned.person_id) as previous_person_id,
        {%- else %}
        assigned.person_id as previous_person_id,
        {%- endif %}
        graph.customer_id,

        -- timestamps
        graph.first_seen,
        graph.last_seen

    from graph
    inner join assigned on assigned.component_id = graph.component_id
    {%- if previous_map is not none %}
    left join previous
        on previous.identifier_type = graph.identifier_type
        and previous.identifier_hash = graph.identifier_hash
    {%- endif %}

)

select * from current_map

{%- if is_incremental() %}

union all

select
    previous.identifier_type,
    previous.identifier_hash,
    cast(null as {{ dbt.type_string() }}) as person_id,
    previous.person_id as previous_person_id,
    cast(null as {{ dbt.type_string() }}) as customer_id,
    cast(null as {{ dbt.type_timestamp() }}) as first_seen,
    cast(null as {{ dbt.type_timestamp() }}) as last_seen
from previous
where not exists (
    select 1 from current_map
    where current_map.identifier_type = previous.identifier_type
        and current_map.identifier_hash = previous.identifier_hash
)

{%- endif %}
