{{
    config(
        materialized=incremental_materialization(),
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook=["{{ delete_tombstones('session_key is null') }}"],
    )
}}

{#-
    The session of every visit event that came without a session_id (session_source
    'inactivity'): per actor (customer_id, else anonymous_id, else the event alone) a new
    session starts after var('session_timeout_minutes') of inactivity or at midnight. Given
    sessions and messaging events need no computation; int_events_sessionized attaches these
    rows to the events. Kept apart so a run touches only the (few) events that need it.

    Sessions never cross midnight, so an actor's sessions on one day depend only on that
    actor's events of that day: the unit of work is (actor_key, event_date). Incremental: every
    pair with an event loaded within var('lookback_days') of the latest load here, and the
    previous pair of every re-delivered event (it may have moved to another actor, day or
    class), is re-sessionized from all its events (delete+insert on event_id). Rows of those
    pairs that no longer belong here are written as tombstones (null session_key) and removed
    by the post-hook in the same transaction, so an incremental run leaves exactly what a full
    refresh builds.
-#}

{%- set timeout_seconds = (var('session_timeout_minutes', 30) | int) * 60 -%}

with

events as (

    select
        event_id,
        {{ event_actor_key() }} as actor_key,
        cast(occurred_at as date) as event_date,
        occurred_at,
        _loaded_at
    from {{ ref('stg_raw__events') }}
    where occurred_at is not null
        and {{ event_session_source() }} = 'inactivity'

),

{% if is_incremental() %}

recently_loaded as (

    -- every class: an event re-delivered as a given-session or messaging event leaves its pair
    select event_id
    from {{ ref('stg_raw__events') }}
    where _loaded_at > {{ incremental_load_bound(ref('stg_raw__events')) }}

),

affected_pairs as (

    select actor_key, event_date
    from events
    where _loaded_at > {{ incremental_load_bound(ref('stg_raw__events')) }}

    union

    select previous.actor_key, previous.event_date
    from {{ this }} as previous
    inner join recently_loaded on previous.event_id = recently_loaded.event_id

),

scoped as (

    select events.*
    from events
    inner join affected_pairs
        on events.actor_key = affected_pairs.actor_key
        and events.event_date = affected_pairs.event_date

),

{% else %}

scoped as (

    select * from events

),

{% endif %}

session_starts as (

    select
        *,
        case
            when lag(occurred_at) over actor_day is null then 1
            when {{ dbt.datediff('lag(occurred_at) over actor_day', 'occurred_at', 'second') }}
                > {{ timeout_seconds }} then 1
            else 0
        end as is_session_start
    from scoped
    window actor_day as (partition by actor_key, event_date order by occurred_at, event_id)

),

sessionized as (

    select
        *,
        max(case when is_session_start = 1 then occurred_at end) over (
            partition by actor_key, event_date order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_started_at
    from session_starts

),

sessions as (

    select
        event_id,
        actor_key,
        event_date,
        {{ inactivity_session_key('actor_key', 'session_started_at') }} as session_key,
        is_session_start,
        session_started_at,
        _loaded_at
    from sessionized

)

{% if is_incremental() %}

, tombstones as (

    select
        previous.event_id,
        previous.actor_key,
        previous.event_date,
        cast(null as {{ dbt.type_string() }}) as session_key,
        0 as is_session_start,
        cast(null as {{ dbt.type_timestamp() }}) as session_started_at,
        previous._loaded_at
    from {{ this }} as previous
    inner join affected_pairs
        on previous.actor_key = affected_pairs.actor_key
        and previous.event_date = affected_pairs.event_date
    where not exists (select 1 from sessions where sessions.event_id = previous.event_id)

)

select * from sessions
union all
select * from tombstones

{% else %}

select * from sessions

{% endif %}
