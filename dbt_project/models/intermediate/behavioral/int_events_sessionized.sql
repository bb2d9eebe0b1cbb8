{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{#-
    Every deduplicated event with its session. Visit events keep the session_id they came
    with; visit events without one are sessionized per actor (customer_id, else anonymous_id):
    a new session starts after var('session_timeout_minutes') of inactivity or at midnight.
    Messaging events (email_*) belong to no session.

    Incremental: the unit of work is the actor. Every actor with an event loaded within
    var('lookback_days') of the latest load is re-sessionized from all of its events, so an
    incremental run writes exactly what a full refresh would (delete+insert on event_id).
-#}

{%- set timeout_seconds = (var('session_timeout_minutes', 30) | int) * 60 -%}
{%- set event_columns -%}
        event_id, session_id, actor_key, customer_id, anonymous_id, product_id, event_type,
        session_source, device, channel, occurred_at, _loaded_at
{%- endset -%}

{%- set messaging_types = "('email_send', 'email_open', 'email_click', 'email_unsubscribe')" -%}

with

events as (

    select
        *,
        case
            when customer_id is not null then {{ dbt.concat(["'customer:'", 'customer_id']) }}
            when anonymous_id is not null then {{ dbt.concat(["'anonymous:'", 'anonymous_id']) }}
            else {{ dbt.concat(["'event:'", 'event_id']) }}
        end as actor_key
    from {{ ref('stg_raw__events') }}
    where occurred_at is not null

),

{% if is_incremental() %}

recently_loaded as (

    select event_id, actor_key
    from events
    where _loaded_at > {{ incremental_load_bound() }}

),

affected_actors as (

    select actor_key from recently_loaded
    union
    -- an event re-delivered under another actor also invalidates its previous actor
    select previous.actor_key
    from {{ this }} as previous
    inner join recently_loaded on previous.event_id = recently_loaded.event_id

),

scoped as (

    select events.*
    from events
    inner join affected_actors on events.actor_key = affected_actors.actor_key

),

{% else %}

scoped as (

    select * from events

),

{% endif %}

classified as (

    select
        *,
        case
            when event_type in {{ messaging_types }} then 'none'
            when session_id is not null then 'given'
            else 'inactivity'
        end as session_source
    from scoped

),

inactivity_events as (

    select
        *,
        lag(occurred_at) over (
            partition by actor_key order by occurred_at, event_id
        ) as previous_occurred_at
    from classified
    where session_source = 'inactivity'

),

session_starts as (

    select
        *,
        case
            when previous_occurred_at is null then 1
            when cast(previous_occurred_at as date) <> cast(occurred_at as date) then 1
            when {{ dbt.datediff('previous_occurred_at', 'occurred_at', 'second') }} > {{ timeout_seconds }}
                then 1
            else 0
        end as is_session_start
    from inactivity_events

),

inactivity_sessions as (

    select
        *,
        max(case when is_session_start = 1 then occurred_at end) over (
            partition by actor_key order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_started_at
    from session_starts

),

sessionized as (

    select
        {{ event_columns }},
        case when session_source = 'given' then session_id end as session_key,
        0 as is_session_start,
        cast(null as {{ dbt.type_timestamp() }}) as session_started_at
    from classified
    where session_source <> 'inactivity'

    union all

    select
        {{ event_columns }},
        {{ dbt.hash(dbt.concat([
            'actor_key', "'|'", dbt.cast('session_started_at', dbt.type_string())
        ])) }} as session_key,
        is_session_start,
        session_started_at
    from inactivity_sessions

)

select
    -- ids
    event_id,
    session_key,
    session_id,
    actor_key,
    customer_id,
    anonymous_id,
    product_id,

    -- enums
    event_type,
    session_source,
    device,
    channel,

    -- session position (inactivity-based sessions only)
    is_session_start,
    session_started_at,

    -- timestamps
    occurred_at,
    cast(occurred_at as date) as event_date,
    _loaded_at

from sessionized
