{{ config(materialized='table') }}

{#- Engagement of every customer at every cutoff, from int_customer_daily_activity up to
    cutoff_date: sessions in the last 7/30/90 days and the 30 before, the session-based
    view -> cart -> purchase funnel and e-mail counts of the last 90 days, and their rates;
    the last visit at any time before. Counts are 0 without activity, but null when the data
    has no events at all. -#}

{%- set measures = ['product_views', 'cart_adds', 'sessions_with_product_view',
    'sessions_with_cart_add', 'viewed_cart_sessions', 'converted_cart_sessions', 'email_sends',
    'email_opens', 'email_clicks'] -%}
{%- set counts = ['sessions_7d', 'sessions_30d', 'sessions_90d', 'sessions_prev_30d'] -%}
{%- for measure in measures -%}
    {%- do counts.append(measure ~ '_90d') -%}
{%- endfor %}
{#- The longest window of any count below: only activity within it is aggregated. -#}
{%- set window_days = 90 %}

with

cutoffs as (

    select cutoff_date from {{ ref('int_customer_cutoffs') }}

),

source_presence as (

    select
        case when exists (select 1 from {{ ref('int_events_sessionized') }}) then true else false end
            as has_events

),

activity_in_window as (

    select
        cutoffs.cutoff_date,
        activity.*
    from {{ ref('int_customer_daily_activity') }} as activity
    inner join cutoffs
        on activity.activity_date <= cutoffs.cutoff_date
        and activity.activity_date > {{ days_before('cutoffs.cutoff_date', window_days) }}

),

last_visits as (

    select
        cutoffs.cutoff_date,
        activity.customer_id,
        max(activity.activity_date) as last_visit_date
    from {{ ref('int_customer_daily_activity') }} as activity
    inner join cutoffs on activity.activity_date <= cutoffs.cutoff_date
    where activity.sessions > 0
    group by cutoffs.cutoff_date, activity.customer_id

),

engagement_aggregates as (

    select
        cutoff_date,
        customer_id,
        sum(case when activity_date > {{ days_before('cutoff_date', 7) }} then sessions else 0 end)
            as sessions_7d,
        sum(case when activity_date > {{ days_before('cutoff_date', 30) }} then sessions else 0 end)
            as sessions_30d,
        sum(case when activity_date > {{ days_before('cutoff_date', 90) }} then sessions else 0 end)
            as sessions_90d,
        sum(case when activity_date > {{ days_before('cutoff_date', 60) }}
            and activity_date <= {{ days_before('cutoff_date', 30) }} then sessions else 0 end)
            as sessions_prev_30d,
        {%- for measure in measures %}
        sum(case when activity_date > {{ days_before('cutoff_date', 90) }} then {{ measure }} else 0 end)
            as {{ measure }}_90d{{ ',' if not loop.last }}
        {%- endfor %}
    from activity_in_window
    group by cutoff_date, customer_id

),

engagement as (

    select
        universe.customer_id,
        universe.cutoff_date,
        {%- for measure in counts %}
        case
            when source_presence.has_events
                then cast(coalesce(engagement_aggregates.{{ measure }}, 0) as {{ dbt.type_bigint() }})
        end as {{ measure }},
        {%- endfor %}
        last_visits.last_visit_date
    from {{ ref('int_customer_universe') }} as universe
    cross join source_presence
    left join engagement_aggregates
        on universe.cutoff_date = engagement_aggregates.cutoff_date
        and universe.customer_id = engagement_aggregates.customer_id
    left join last_visits
        on universe.cutoff_date = last_visits.cutoff_date
        and universe.customer_id = last_visits.customer_id

)

select
    -- keys
    customer_id,
    cutoff_date,

    -- visits
    sessions_7d,
    sessions_30d,
    sessions_90d,
    sessions_prev_30d,
    last_visit_date,
    {{ dbt.datediff('last_visit_date', 'cutoff_date', 'day') }} as days_since_last_visit,

    -- funnel, last 90 days
    product_views_90d,
    cart_adds_90d,
    sessions_with_product_view_90d,
    sessions_with_cart_add_90d,
    viewed_cart_sessions_90d,
    converted_cart_sessions_90d,
    {{ safe_divide('viewed_cart_sessions_90d', 'sessions_with_product_view_90d') }} as view_to_cart_rate,
    {{ safe_divide('converted_cart_sessions_90d', 'sessions_with_cart_add_90d') }} as cart_to_purchase_rate,

    -- e-mail, last 90 days
    email_sends_90d,
    email_opens_90d,
    email_clicks_90d,
    -- A share of sends: at most one open (click) per send, so opens of e-mails sent before
    -- the window, or repeat opens an ESP reports per open, never push the rate above 1.
    {{ safe_divide('least(email_opens_90d, email_sends_90d)', 'email_sends_90d') }} as email_open_rate,
    {{ safe_divide('least(email_clicks_90d, email_sends_90d)', 'email_sends_90d') }} as email_click_rate,

    -- trend
    {{ safe_divide('sessions_30d', 'sessions_prev_30d') }} as engagement_trend

from engagement
