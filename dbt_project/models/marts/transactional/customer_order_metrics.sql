{#- Per-customer transactional metrics as of the as-of date (completed orders unless the
    column says otherwise), for customers with a completed order by then. A projection of
    customer_360, which computes them with the shared feature macro: computing them again
    here would repeat the whole feature pipeline over the orders for the same numbers. -#}

select
    customer_id,
    as_of_date,
    first_order_at,
    last_order_at,
    recency_days,
    frequency,
    monetary,
    avg_order_value,
    tenure_days,
    mean_interpurchase_days,
    cancel_rate,
    return_rate,
    discount_share,
    historical_clv,
    distinct_categories,
    top_category,
    preferred_channel,
    {%- for slug in category_slug_map() | sort %}
    cat_share_{{ slug }},
    {%- endfor %}
    orders_30d,
    orders_90d,
    revenue_90d
from {{ ref('customer_360') }}
where first_order_at is not null
