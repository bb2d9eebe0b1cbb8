{{ config(materialized='ephemeral') }}

{#- Per customer record: its person (marts.identity_map) and whether it is the person's
    primary record (earliest first seen, int_identity_graph). Inlined into customer_360 and
    customer_360_history (ephemeral: no table). -#}

with

persons as (

    select customer_id, person_id
    from {{ ref('identity_map') }}
    where identifier_type = 'customer_id'

)

select
    graph.identifier_value as customer_id,
    persons.person_id,
    graph.primary_customer_id = graph.identifier_value as is_primary_record
from {{ ref('int_identity_graph') }} as graph
left join persons on persons.customer_id = graph.identifier_value
where graph.identifier_type = 'customer_id'
