-- Every visit event has a session (given, or one from int_inactivity_sessions) and every
-- sessionized event is counted in exactly one fct_sessions row. Returns a row when not.
with

events as (

    select
        count(case when session_source <> 'none' then 1 end) as visit_events,
        count(session_key) as events
    from {{ ref('int_events_sessionized') }}

),

sessions as (

    select coalesce(sum(events), 0) as events
    from {{ ref('fct_sessions') }}

)

select
    events.visit_events,
    events.events as sessionized_events,
    sessions.events as session_events
from events
cross join sessions
where events.events <> sessions.events
    or events.visit_events <> events.events
