{{ config(materialized='view') }}

{#-
    Every deduplicated event with its session. Visit events keep the session_id they came
    with; visit events without one get their inactivity-based session from
    int_inactivity_sessions (per actor: a new session after var('session_timeout_minutes') of
    inactivity or at midnight). Messaging events (email_*) belong to no session.

    A view: the events are stored once (stg_raw__events, incremental on the load time) and
    the computed sessions once (int_inactivity_sessions, incremental per actor and day), so a
    daily run rewrites neither the 10M+ events nor their sessions; readers pay one join with
    the small sessions table.
-#}

with

events as (

    select
        *,
        {{ event_actor_key() }} as actor_key,
        {{ event_session_source() }} as session_source
    from {{ ref('stg_raw__events') }}
    where occurred_at is not null

),

sessionized as (

    select
        events.*,
        case
            when events.session_source = 'given' then events.session_id
            when events.session_source = 'inactivity' then inactivity.session_key
        end as session_key,
        coalesce(inactivity.is_session_start, 0) as is_session_start,
        inactivity.session_started_at
    from events
    left join {{ ref('int_inactivity_sessions') }} as inactivity
        on events.session_source = 'inactivity'
        and events.event_id = inactivity.event_id

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
