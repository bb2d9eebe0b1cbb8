{{ config(materialized='table') }}

{#- Pairs of identifiers seen together, one side always a customer record (customer_id):
    the record's normalised e-mail (lower(trim)) and phone (digits and a leading +), a
    guest order's record and its e-mail (guest checkouts are customer records with an
    e-mail), and every anonymous_id an event carried together with a customer_id (a login
    on a device). first_seen / last_seen: when the pair was first and last seen. Which pairs
    may merge records is decided in int_identity_graph (var identity_merge_types). -#}

with

customers as (

    select
        customer_id,
        email,
        phone,
        coalesce(signup_at, record_updated_at) as first_seen,
        record_updated_at as last_seen
    from {{ ref('stg_raw__customers') }}

),

contact_edges as (

    select
        customer_id,
        'email' as identifier_type,
        lower(trim(email)) as identifier_value,
        first_seen,
        last_seen
    from customers
    where nullif(trim(email), '') is not null

    union all

    select
        customer_id,
        'phone' as identifier_type,
        {{ normalized_phone('phone') }} as identifier_value,
        first_seen,
        last_seen
    from customers
    where {{ normalized_phone('phone') }} is not null

),

device_edges as (

    select
        customer_id,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        min(occurred_at) as first_seen,
        max(occurred_at) as last_seen
    from {{ ref('stg_raw__events') }}
    where customer_id is not null and anonymous_id is not null and occurred_at is not null
    group by customer_id, anonymous_id

)

select customer_id, identifier_type, identifier_value, first_seen, last_seen from contact_edges
union all
select customer_id, identifier_type, identifier_value, first_seen, last_seen from device_edges
