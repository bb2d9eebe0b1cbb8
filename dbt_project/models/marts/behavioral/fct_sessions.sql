{{
    config(
        materialized='incremental',
        unique_key='session_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook=[
            "delete from {{ this }} where session_key not in (
                select session_key from {{ ref('int_events_sessionized') }} where session_key is not null
            )"
        ],
    )
}}

{#- One row per session (given session_id or inactivity-based), from int_events_sessionized.
    Incremental: every session of an actor with an event loaded within var('lookback_days') of
    the latest load is recomputed from all of its events; sessions that no longer exist (merged
    by a late event) are removed by the post-hook. -#}

with

events as (

    select * from {{ ref('int_events_sessionized') }}
    where session_key is not null

),

{% if is_incremental() %}

affected_sessions as (

    select distinct touched.session_key
    from events as touched
    inner join (
        select distinct actor_key
        from events
        where _loaded_at > {{ incremental_load_bound() }}
    ) as affected_actors on touched.actor_key = affected_actors.actor_key

),

scoped as (

    select events.*
    from events
    inner join affected_sessions on events.session_key = affected_sessions.session_key

),

{% else %}

scoped as (

    select * from events

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
    from scoped
    group by session_key

)

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
