{#- Per-customer engagement as of the as-of date: visits, funnel and email rates and the
    30-day trend. Empty when there are no events. -#}

with

{{ customer_feature_ctes(as_of_cutoffs()) }}

select
    universe.customer_id,
    universe.as_of_date,
    engagement.sessions_7d,
    engagement.sessions_30d,
    engagement.sessions_90d,
    engagement.sessions_prev_30d,
    engagement.last_visit_date,
    {{ dbt.datediff('engagement.last_visit_date', 'universe.cutoff_date', 'day') }} as days_since_last_visit,
    engagement.product_views_90d,
    engagement.cart_adds_90d,
    engagement.sessions_with_product_view_90d,
    engagement.sessions_with_cart_add_90d,
    engagement.viewed_cart_sessions_90d,
    engagement.converted_cart_sessions_90d,
    {{ safe_divide('engagement.viewed_cart_sessions_90d', 'engagement.sessions_with_product_view_90d') }}
        as view_to_cart_rate,
    {{ safe_divide('engagement.converted_cart_sessions_90d', 'engagement.sessions_with_cart_add_90d') }}
        as cart_to_purchase_rate,
    engagement.email_sends_90d,
    engagement.email_opens_90d,
    engagement.email_clicks_90d,
    {{ safe_divide('engagement.email_opens_90d', 'engagement.email_sends_90d') }} as email_open_rate,
    {{ safe_divide('engagement.email_clicks_90d', 'engagement.email_sends_90d') }} as email_click_rate,
    {{ safe_divide('engagement.sessions_30d', 'engagement.sessions_prev_30d') }} as engagement_trend
from universe
cross join source_presence
inner join engagement
    on universe.cutoff_date = engagement.cutoff_date
    and universe.customer_id = engagement.customer_id
where source_presence.has_events
