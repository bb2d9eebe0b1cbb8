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

    Incremental by difference: a session changes whenever an event joins or leaves it, and an
    event can leave a session without being loaded again (a late event merges or splits an
    actor's inactivity sessions; a re-delivered event moves to another session), so sessions
    are re-aggregated from all events (one grouped scan, cheap next to writing the table) and
    only rows that differ from the stored ones are written (delete+insert on session_key).
    Sessions that no longer exist are written as tombstones (null session_started_at, which no
    real session has) and removed by the post-hook in the same transaction. An incremental
    run leaves exactly what a full refresh builds and rewrites only the changed sessions. -#}

{%- set session_columns = ['session_key', 'customer_id', 'anonymous_id', 'session_started_at',
    'session_ended_at', 'session_date', 'duration_seconds', 'session_source', 'device', 'channel',
    'events', 'page_views', 'product_views', 'cart_adds', 'checkouts', 'purchases', 'converted',
    '_loaded_at'] -%}

with

events as (

    select * from {{ ref('int_events_sessionized') }}
    where session_key is not null

),

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

, changed as (

    -- new and changed sessions: a set difference compares every column, nulls included
    select {{ session_columns | join(', ') }} from session_rows
    except
    select {{ session_columns | join(', ') }} from {{ this }}

),

tombstones as (

    select
        previous.session_key,
        {%- for column in session_columns[1:] %}
        null as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as previous
    where not exists (
        select 1 from session_rows where session_rows.session_key = previous.session_key
    )

)

select * from changed
union all
select * from tombstones

{% else %}

select * from session_rows

{% endif %}
