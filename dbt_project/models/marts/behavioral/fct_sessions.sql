{{
    config(
        materialized=incremental_materialization(),
        unique_key='session_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook=["{{ delete_tombstones('session_started_at is null') }}"],
    )
}}

{#- One row per session (given session_id or inactivity-based), from int_events_sessionized.

    Incremental by touched session (delete+insert on session_key): a run recomputes, from all
    their events, only the sessions an event loaded since the last build (the watermark:
    incremental_load_bound on the load time) joins or leaves. Such an event touches
      - its given session now and before (an earlier load of it in raw may carry another
        session_id, another actor or no session at all),
      - every inactivity session of its actor's day now and before: a late event can merge
        two of them or move the start, a re-delivered one can split one (int_inactivity_sessions
        re-sessionizes those actor-days; sessions never cross midnight),
    so a late event for an old session rebuilds that whole session, however far back.
    An erasure (segmint forget) deletes every session the person took part in; a given
    session that other visitors' events remain in has no row here then and the next run
    rebuilds it too (a scan of all events, only after an erasure).
    Touched sessions that no longer exist are written as tombstones (null
    session_started_at, which no real session has) and removed by the post-hook in the same
    transaction. An incremental run leaves exactly what a full refresh builds. No as-of
    filter: sessions, like the other facts, hold every event loaded. -#}

{%- set session_columns = ['session_key', 'customer_id', 'anonymous_id', 'session_started_at',
    'session_ended_at', 'session_date', 'duration_seconds', 'session_source', 'device', 'channel',
    'events', 'page_views', 'product_views', 'cart_adds', 'checkouts', 'purchases', 'converted',
    '_loaded_at'] -%}
{%- set staged = ref('stg_raw__events') -%}
{#- the relations only the incremental branch reads, referenced here so dbt parses the deps -#}
{%- set incremental_inputs = [ref('int_inactivity_sessions'), source('raw', 'events')] -%}

with

{% if is_incremental() %}

recent as {{ materialized_cte() }} (

    select event_id from {{ staged }}
    where _loaded_at > {{ incremental_load_bound(staged) }}

),

versions as (

    -- every recent event as it is now and as every earlier load of it had it
    select event_id, customer_id, anonymous_id, session_id, event_type, occurred_at
    from {{ staged }}
    where event_id in (select event_id from recent)

    union all

    select
        {{ clean_text('event_id') }},
        {{ clean_text('customer_id') }},
        {{ clean_text('anonymous_id') }},
        {{ clean_text('session_id') }},
        {{ clean_enum('event_type') }},
        cast(occurred_at as {{ dbt.type_timestamp() }})
    from {{ source('raw', 'events') }}
    where {{ clean_text('event_id') }} in (select event_id from recent)

),

touched as {{ materialized_cte() }} (

    select
        {{ event_actor_key() }} as actor_key,
        cast(occurred_at as date) as event_date,
        {{ event_session_source() }} as session_source,
        session_id,
        occurred_at,
        customer_id is null and anonymous_id is null as is_own_actor
    from versions
    where occurred_at is not null

),

touched_given as {{ materialized_cte() }} (

    select session_id as session_key from touched where session_source = 'given'
    {%- if erased_since_latest_load() %}

    union

    -- given sessions an erasure removed the row of, with other visitors' events left in them
    select staged.session_id
    from {{ staged }} as staged
    where staged.occurred_at is not null
        and {{ event_session_source('staged.event_type', 'staged.session_id') }} = 'given'
        and not exists (select 1 from {{ this }} as previous where previous.session_key = staged.session_id)
    {%- endif %}

),

touched_days as {{ materialized_cte() }} (

    select distinct actor_key, event_date from touched where session_source = 'inactivity'

),

touched_inactivity as {{ materialized_cte() }} (

    select inactivity.event_id
    from {{ ref('int_inactivity_sessions') }} as inactivity
    inner join touched_days
        on inactivity.actor_key = touched_days.actor_key
        and inactivity.event_date = touched_days.event_date

),

scoped as {{ materialized_cte() }} (

    -- the events of the touched sessions, read from staging by key (a scan of the
    -- int_events_sessionized view would join every event with its inactivity session)
    select *, {{ event_session_source() }} as session_source
    from {{ staged }}
    where occurred_at is not null
        and (
            event_id in (select event_id from touched_inactivity)
            or session_id in (select session_key from touched_given)
        )

),

events as (

    -- as int_events_sessionized attaches them
    select
        scoped.*,
        case
            when scoped.session_source = 'given' then scoped.session_id
            else inactivity.session_key
        end as session_key
    from scoped
    left join {{ ref('int_inactivity_sessions') }} as inactivity
        on scoped.session_source = 'inactivity'
        and scoped.event_id = inactivity.event_id
    where (scoped.session_source = 'given' and scoped.session_id in (select session_key from touched_given))
        or (scoped.session_source = 'inactivity' and inactivity.session_key is not null)

),

{% else %}

events as (

    select * from {{ ref('int_events_sessionized') }}
    where session_key is not null

),

{% endif %}

sessions as (

    select
        session_key,
        max(session_source) as session_source,
        max(customer_id) as customer_id,
        max(anonymous_id) as anonymous_id,
        min(occurred_at) as session_started_at,
        max(occurred_at) as session_ended_at,
        {{ arg_min('device', 'occurred_at', 'event_id') }} as device,
        {{ arg_min('channel', 'occurred_at', 'event_id') }} as channel,
        count(*) as events,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_views,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as cart_adds,
        sum(case when event_type = 'checkout' then 1 else 0 end) as checkouts,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        max(_loaded_at) as _loaded_at
    from events
    group by session_key

),

session_rows as (

    select
        -- ids
        session_key,
        customer_id,
        anonymous_id,

        -- timestamps
        session_started_at,
        session_ended_at,
        cast(session_started_at as date) as session_date,
        {{ dbt.datediff('session_started_at', 'session_ended_at', 'second') }} as duration_seconds,

        -- attributes
        session_source,
        device,
        channel,

        -- counts
        cast(events as {{ dbt.type_bigint() }}) as events,
        cast(page_views as {{ dbt.type_bigint() }}) as page_views,
        cast(product_views as {{ dbt.type_bigint() }}) as product_views,
        cast(cart_adds as {{ dbt.type_bigint() }}) as cart_adds,
        cast(checkouts as {{ dbt.type_bigint() }}) as checkouts,
        cast(purchases as {{ dbt.type_bigint() }}) as purchases,
        purchases > 0 as converted,

        -- lineage
        _loaded_at

    from sessions

)

{% if is_incremental() %}

, previous_touched as (

    -- the stored sessions of the touched given sessions and actor-days
    select previous.session_key
    from {{ this }} as previous
    where previous.session_source = 'given'
        and previous.session_key in (select session_key from touched_given)

    union

    select previous.session_key
    from {{ this }} as previous
    inner join touched_days
        on {{ event_actor_key('previous.customer_id', 'previous.anonymous_id', 'cast(null as ' ~ dbt.type_string() ~ ')') }}
            = touched_days.actor_key
        and previous.session_date = touched_days.event_date
    where previous.session_source = 'inactivity'

    union

    -- an event without customer or device is its own actor: its one-event session's key
    select {{ inactivity_session_key('actor_key', 'occurred_at') }}
    from touched
    where session_source = 'inactivity' and is_own_actor

),

tombstones as (

    select
        previous_touched.session_key,
        {%- for column in session_columns[1:] %}
        null as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from previous_touched
    where not exists (
        select 1 from session_rows where session_rows.session_key = previous_touched.session_key
    )

)

select * from session_rows
union all
select * from tombstones

{% else %}

select * from session_rows

{% endif %}
