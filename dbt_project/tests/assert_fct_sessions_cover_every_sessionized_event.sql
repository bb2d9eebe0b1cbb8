-- Every sessionized event is counted in exactly one fct_sessions row.
with

events as (

    select count(*) as events
    from {{ ref('int_events_sessionized') }}
    where session_key is not null

),

sessions as (

    select coalesce(sum(events), 0) as events
    from {{ ref('fct_sessions') }}

)

select events.events as sessionized_events, sessions.events as session_events
from events
cross join sessions
where events.events <> sessions.events
