{#- Per-customer engagement as of the as-of date: visits, funnel and e-mail rates and the
    30-day trend (int_customer_engagement at the as-of cutoff), for customers known by then.
    Empty when there are no events. -#}

select
    engagement.customer_id,
    universe.as_of_date,
    engagement.sessions_7d,
    engagement.sessions_30d,
    engagement.sessions_90d,
    engagement.sessions_prev_30d,
    engagement.last_visit_date,
    engagement.days_since_last_visit,
    engagement.product_views_90d,
    engagement.cart_adds_90d,
    engagement.sessions_with_product_view_90d,
    engagement.sessions_with_cart_add_90d,
    engagement.viewed_cart_sessions_90d,
    engagement.converted_cart_sessions_90d,
    engagement.view_to_cart_rate,
    engagement.cart_to_purchase_rate,
    engagement.email_sends_90d,
    engagement.email_opens_90d,
    engagement.email_clicks_90d,
    engagement.email_open_rate,
    engagement.email_click_rate,
    engagement.engagement_trend
from {{ ref('int_customer_universe') }} as universe
inner join {{ ref('int_customer_engagement') }} as engagement
    on universe.customer_id = engagement.customer_id
    and universe.cutoff_date = engagement.cutoff_date
where universe.cutoff_kind = 'as_of'
    and universe.is_known
    -- the session counts are null exactly when the data has no events
    and engagement.sessions_90d is not null
