{{ config(materialized='table') }}

{#- One row per customer and day with any activity: sessions and funnel steps (from
    fct_sessions, by session start date; anonymous sessions of a device stitched to one
    person count for that person's primary record), email events and orders. Features aggregate these
    days instead of raw events. Not cut at as_of: the features apply the cut. -#}

with

stitched_devices as (

    -- anonymous ids attached to one person (int_identity_graph): their sessions count for
    -- the person's primary record, so browsing before login counts toward engagement
    select identifier_value as anonymous_id, primary_customer_id
    from {{ ref('int_identity_graph') }}
    where identifier_type = 'anonymous_id' and component_id is not null

),

attributed_sessions as (

    select
        coalesce(fct_sessions.customer_id, stitched_devices.primary_customer_id) as customer_id,
        fct_sessions.session_date,
        fct_sessions.page_views,
        fct_sessions.product_views,
        fct_sessions.cart_adds,
        fct_sessions.converted
    from {{ ref('fct_sessions') }} as fct_sessions
    left join stitched_devices
        on fct_sessions.customer_id is null
        and fct_sessions.anonymous_id = stitched_devices.anonymous_id

),

sessions as (

    select
        customer_id,
        session_date as activity_date,
        count(*) as sessions,
        cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
        cast(sum(product_views) as {{ dbt.type_bigint() }}) as product_views,
        cast(sum(cart_adds) as {{ dbt.type_bigint() }}) as cart_adds,
        sum(case when product_views > 0 then 1 else 0 end) as sessions_with_product_view,
        sum(case when cart_adds > 0 then 1 else 0 end) as sessions_with_cart_add,
        sum(case when product_views > 0 and cart_adds > 0 then 1 else 0 end) as viewed_cart_sessions,
        sum(case when cart_adds > 0 and converted then 1 else 0 end) as converted_cart_sessions,
        sum(case when converted then 1 else 0 end) as converted_sessions
    from attributed_sessions
    where customer_id is not null
    group by customer_id, session_date

),

emails as (

    select
        customer_id,
        event_date as activity_date,
        sum(case when event_type = 'email_send' then 1 else 0 end) as email_sends,
        sum(case when event_type = 'email_open' then 1 else 0 end) as email_opens,
        sum(case when event_type = 'email_click' then 1 else 0 end) as email_clicks,
        sum(case when event_type = 'email_unsubscribe' then 1 else 0 end) as email_unsubscribes
    from {{ ref('int_events_sessionized') }}
    where session_source = 'none' and customer_id is not null
    group by customer_id, event_date

),

orders as (

    select
        customer_id,
        order_date as activity_date,
        count(*) as orders,
        sum(case when is_completed then 1 else 0 end) as completed_orders,
        sum(case when is_completed then total_amount_base else 0 end) as revenue
    from {{ ref('fct_orders') }}
    group by customer_id, order_date

),

unioned as (

    select
        customer_id, activity_date,
        sessions, page_views, product_views, cart_adds,
        sessions_with_product_view, sessions_with_cart_add, viewed_cart_sessions,
        converted_cart_sessions, converted_sessions,
        0 as email_sends, 0 as email_opens, 0 as email_clicks, 0 as email_unsubscribes,
        0 as orders, 0 as completed_orders, 0 as revenue
    from sessions

    union all

    select
        customer_id, activity_date,
        0, 0, 0, 0,
        0, 0, 0,
        0, 0,
        email_sends, email_opens, email_clicks, email_unsubscribes,
        0, 0, 0
    from emails

    union all

    select
        customer_id, activity_date,
        0, 0, 0, 0,
        0, 0, 0,
        0, 0,
        0, 0, 0, 0,
        orders, completed_orders, revenue
    from orders

)

select
    customer_id,
    activity_date,
    cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
    cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
    cast(sum(product_views) as {{ dbt.type_bigint() }}) as product_views,
    cast(sum(cart_adds) as {{ dbt.type_bigint() }}) as cart_adds,
    cast(sum(sessions_with_product_view) as {{ dbt.type_bigint() }}) as sessions_with_product_view,
    cast(sum(sessions_with_cart_add) as {{ dbt.type_bigint() }}) as sessions_with_cart_add,
    cast(sum(viewed_cart_sessions) as {{ dbt.type_bigint() }}) as viewed_cart_sessions,
    cast(sum(converted_cart_sessions) as {{ dbt.type_bigint() }}) as converted_cart_sessions,
    cast(sum(converted_sessions) as {{ dbt.type_bigint() }}) as converted_sessions,
    cast(sum(email_sends) as {{ dbt.type_bigint() }}) as email_sends,
    cast(sum(email_opens) as {{ dbt.type_bigint() }}) as email_opens,
    cast(sum(email_clicks) as {{ dbt.type_bigint() }}) as email_clicks,
    cast(sum(email_unsubscribes) as {{ dbt.type_bigint() }}) as email_unsubscribes,
    cast(sum(orders) as {{ dbt.type_bigint() }}) as orders,
    cast(sum(completed_orders) as {{ dbt.type_bigint() }}) as completed_orders,
    cast(sum(revenue) as {{ type_money() }}) as revenue
from unioned
group by customer_id, activity_date
