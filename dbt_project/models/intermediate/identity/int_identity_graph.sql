{{ config(materialized='table') }}

{#- The identity graph: customer records joined into persons, every identifier with the
    person (component) it belongs to.

    Records merge through identifiers of the types in var('identity_merge_types') (e-mail
    and phone) that link 2 to var('identity_max_persons') records and are no placeholder
    (var('identity_placeholder_emails'), LIKE patterns); connected components by min-label
    propagation: every record starts with its own customer_id as label and takes the
    smallest label among itself and its neighbours, var('identity_max_iterations') times
    (unrolled, one CTE per step: portable SQL, no recursion). A person holds at most one
    value of the types in var('identity_exclusive_types') (e-mail): a phone shared by two
    records with different e-mails (a household landline) does not merge them. is_converged says whether the
    last step changed nothing (a component wider than the cap keeps two labels; the test
    on this column warns).
    Identifiers of other types (anonymous_id: devices) never merge records: they attach
    to the one person they were seen with, and to nobody when seen with several (a shared
    tablet, a store kiosk). Unattached identifiers carry conflict_reason: placeholder,
    too_many_records or several_persons; marts.identity_conflicts lists them.
    primary_customer_id: the person's earliest record (first seen, then smallest id), the
    row that carries the person's stitched activity in the customer marts. -#}

{%- set merge_types = var('identity_merge_types') -%}
{%- set max_persons = var('identity_max_persons') | int -%}
{%- set exclusive_types = var('identity_exclusive_types') -%}
{%- set iterations = var('identity_max_iterations') | int -%}

with

edges as (

    select * from {{ ref('int_identity_edges') }}

),

records as (

    select customer_id, min(first_seen) as first_seen, max(last_seen) as last_seen
    from (
        select customer_id, exists_from as first_seen, exists_from as last_seen
        from {{ ref('int_customers_unioned') }}
        union all
        select customer_id, first_seen, last_seen from edges
    ) as seen
    group by customer_id

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        count(distinct customer_id) as records,
        min(first_seen) as first_seen,
        max(last_seen) as last_seen,
        case
            when identifier_type = 'email' and (
                {%- for pattern in var('identity_placeholder_emails') %}
                identifier_value like '{{ pattern }}' or
                {%- endfor %}
                1 = 0
            ) then true
            else false
        end as is_placeholder
    from edges
    group by identifier_type, identifier_value

),

merging as (

    select identifier_type, identifier_value
    from identifiers
    where identifier_type in ('{{ merge_types | join("', '") }}')
        and not is_placeholder
        and records between 2 and {{ max_persons }}

),

candidate_links as (

    select
        left_edge.customer_id,
        right_edge.customer_id as neighbour_id,
        left_edge.identifier_type as via_type
    from edges as left_edge
    inner join merging
        on left_edge.identifier_type = merging.identifier_type
        and left_edge.identifier_value = merging.identifier_value
    inner join edges as right_edge
        on right_edge.identifier_type = left_edge.identifier_type
        and right_edge.identifier_value = left_edge.identifier_value
    where left_edge.customer_id <> right_edge.customer_id

),

exclusive as (

    select customer_id, identifier_type, identifier_value
    from edges
    where identifier_type in ('{{ exclusive_types | join("', '") }}')

),

blocked_links as (

    -- two records with different values of an exclusive type (their own e-mails) are two
    -- people sharing the linking identifier (a household's phone): no merge
    select distinct candidate_links.customer_id, candidate_links.neighbour_id
    from candidate_links
    inner join exclusive as own on own.customer_id = candidate_links.customer_id
    inner join exclusive as other
        on other.customer_id = candidate_links.neighbour_id
        and other.identifier_type = own.identifier_type
    where candidate_links.via_type <> own.identifier_type
        and own.identifier_value <> other.identifier_value

),

links as (

    -- every record is its own neighbour, so one join per step reaches itself too
    select customer_id, customer_id as neighbour_id from records

    union

    select candidate_links.customer_id, candidate_links.neighbour_id
    from candidate_links
    left join blocked_links
        on blocked_links.customer_id = candidate_links.customer_id
        and blocked_links.neighbour_id = candidate_links.neighbour_id
    where blocked_links.customer_id is null

),

labels_0 as (

    select customer_id, customer_id as label from records

),

{%- for step in range(1, iterations + 1) %}

labels_{{ step }} as (

    select links.customer_id, min(previous.label) as label
    from links
    inner join labels_{{ step - 1 }} as previous on previous.customer_id = links.neighbour_id
    group by links.customer_id

),
{%- endfor %}

components as (

    select
        records.customer_id,
        records.first_seen,
        records.last_seen,
        final.label as component_id,
        final.label = before.label as is_converged
    from records
    inner join labels_{{ iterations }} as final on final.customer_id = records.customer_id
    inner join labels_{{ iterations - 1 }} as before on before.customer_id = records.customer_id

),

primaries as (

    select component_id, customer_id as primary_customer_id
    from (
        select
            component_id,
            customer_id,
            row_number() over (
                partition by component_id order by first_seen asc nulls last, customer_id
            ) as record_rank
        from components
    ) as ranked
    where record_rank = 1

),

identifier_persons as (

    select
        edges.identifier_type,
        edges.identifier_value,
        count(distinct components.component_id) as persons,
        min(components.component_id) as component_id
    from edges
    inner join components on components.customer_id = edges.customer_id
    group by edges.identifier_type, edges.identifier_value

),

attached as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.records,
        identifier_persons.persons,
        case
            when identifiers.is_placeholder then 'placeholder'
            when identifiers.identifier_type not in ('{{ merge_types | join("', '") }}')
                and identifier_persons.persons > 1 then 'several_persons'
            when identifiers.records > {{ max_persons }} then 'too_many_records'
            when identifier_persons.persons > 1 then 'several_persons'
        end as conflict_reason,
        identifier_persons.component_id,
        identifiers.first_seen,
        identifiers.last_seen
    from identifiers
    inner join identifier_persons
        on identifier_persons.identifier_type = identifiers.identifier_type
        and identifier_persons.identifier_value = identifiers.identifier_value

),

unioned as (

    select
        'customer_id' as identifier_type,
        customer_id as identifier_value,
        customer_id,
        component_id,
        cast(1 as {{ dbt.type_bigint() }}) as records,
        cast(1 as {{ dbt.type_bigint() }}) as persons,
        cast(null as {{ dbt.type_string() }}) as conflict_reason,
        first_seen,
        last_seen,
        is_converged
    from components

    union all

    select
        identifier_type,
        identifier_value,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        case when conflict_reason is null then component_id end as component_id,
        cast(records as {{ dbt.type_bigint() }}) as records,
        cast(persons as {{ dbt.type_bigint() }}) as persons,
        conflict_reason,
        first_seen,
        last_seen,
        true as is_converged
    from attached

)

select
    -- ids
    unioned.identifier_type,
    unioned.identifier_value,
    coalesce(unioned.customer_id, primaries.primary_customer_id) as customer_id,
    unioned.component_id,
    primaries.primary_customer_id,

    -- degree
    unioned.records,
    unioned.persons,
    unioned.conflict_reason,
    unioned.is_converged,

    -- timestamps
    unioned.first_seen,
    unioned.last_seen

from unioned
left join primaries on primaries.component_id = unioned.component_id
