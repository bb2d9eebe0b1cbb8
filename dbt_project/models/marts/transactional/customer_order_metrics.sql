{#- Per-customer transactional metrics as of the as-of date (completed orders unless the
    column says otherwise), for customers with a completed order by then: a projection of
    customer_360, with its cat_share_<slug> columns. -#}

{%- set ref_customer_360 = ref('customer_360') %}

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
    {%- for column in relation_columns(ref_customer_360) if column.startswith('cat_share_') %}
    {{ column }},
    {%- endfor %}
    orders_30d,
    orders_90d,
    revenue_90d
from {{ ref_customer_360 }}
where first_order_at is not null
