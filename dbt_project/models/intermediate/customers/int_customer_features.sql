{{ config(materialized='view') }}

{#- Every feature of every customer at every cutoff: the int_customer_* feature models joined
    on (customer_id, cutoff_date), in the customer_360 column order. A view: each feature is
    computed once, in its table; customer_360 (the as-of cutoff) and customer_360_history
    (the history cutoffs) each read their own cutoffs of this join. cutoff_kind and is_known
    (from int_customer_universe) select them. -#}

select
    -- ids
    universe.customer_id,
    universe.customer_key,
    universe.as_of_date,
    universe.cutoff_date,

    -- demographics
    demographics.age,
    demographics.age_band,
    demographics.gender,
    demographics.country,
    demographics.city,
    demographics.acquisition_channel,
    demographics.marketing_consent,
    demographics.signup_at,
    demographics.tenure_days,

    -- transactions
    orders.first_order_at,
    orders.last_order_at,
    orders.recency_days,
    orders.frequency,
    orders.monetary,
    orders.avg_order_value,
    orders.orders_30d,
    orders.orders_90d,
    orders.orders_prev_90d,
    orders.revenue_90d,
    orders.revenue_prev_90d,
    orders.mean_interpurchase_days,
    orders.cancel_rate,
    orders.return_rate,
    orders.discount_share,
    orders.historical_clv,

    -- categories
    categories.distinct_categories,
    categories.top_category,
    orders.preferred_channel,
    {%- for column in relation_columns(ref('int_customer_categories')) if column.startswith('cat_share_') %}
    categories.{{ column }},
    {%- endfor %}

    -- rfm
    rfm.rfm_recency_score,
    rfm.rfm_frequency_score,
    rfm.rfm_monetary_score,
    rfm.rfm_score,
    rfm.rfm_class,

    -- engagement
    engagement.sessions_7d,
    engagement.sessions_30d,
    engagement.sessions_90d,
    engagement.days_since_last_visit,
    engagement.product_views_90d,
    engagement.cart_adds_90d,
    engagement.view_to_cart_rate,
    engagement.cart_to_purchase_rate,
    engagement.email_sends_90d,
    engagement.email_opens_90d,
    engagement.email_clicks_90d,
    engagement.email_open_rate,
    engagement.email_click_rate,
    engagement.sessions_prev_30d,
    engagement.engagement_trend,

    -- cutoff
    universe.cutoff_kind,
    universe.is_known

from {{ ref('int_customer_universe') }} as universe
left join {{ ref('int_customer_demographics') }} as demographics
    on universe.customer_id = demographics.customer_id
    and universe.cutoff_date = demographics.cutoff_date
left join {{ ref('int_customer_orders') }} as orders
    on universe.customer_id = orders.customer_id
    and universe.cutoff_date = orders.cutoff_date
left join {{ ref('int_customer_categories') }} as categories
    on universe.customer_id = categories.customer_id
    and universe.cutoff_date = categories.cutoff_date
left join {{ ref('int_customer_rfm') }} as rfm
    on universe.customer_id = rfm.customer_id
    and universe.cutoff_date = rfm.cutoff_date
left join {{ ref('int_customer_engagement') }} as engagement
    on universe.customer_id = engagement.customer_id
    and universe.cutoff_date = engagement.cutoff_date
