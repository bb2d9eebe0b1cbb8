{#-
    Per-customer features, written ONCE and parametrised by cutoffs.

    A "cutoffs" query returns rows (as_of_date, cutoff_date, cutoff_ts): features for a cutoff
    only see rows with a timestamp < cutoff_ts (the start of the day after cutoff_date) and
    windows end on cutoff_date. customer_360 uses one cutoff (the as-of date);
    customer_360_history uses several (as_of - k * churn_horizon_days). The area marts
    (customer_order_metrics, customer_rfm, customer_engagement, dim_customers) use the same
    CTEs, so every number means the same thing everywhere.

    Usage:  with {{ customer_feature_ctes(as_of_cutoffs()) }} select ... from universe ...
-#}

{% macro as_of_cutoffs() -%}
    select
        as_of_date,
        as_of_date as cutoff_date,
        cutoff_ts
    from {{ ref('int_as_of') }}
{%- endmacro %}

{% macro history_cutoffs() -%}
    {%- set horizon = var('churn_horizon_days', 90) | int -%}
    {%- set count = var('history_cutoffs', 3) | int -%}
    select
        as_of_date,
        cutoff_date,
        cast({{ dbt.dateadd('day', 1, 'cutoff_date') }} as {{ dbt.type_timestamp() }}) as cutoff_ts
    from (
        {%- for k in range(1, count + 1) %}
        select
            as_of_date,
            cast({{ dbt.dateadd('day', -1 * k * horizon, 'as_of_date') }} as date) as cutoff_date
        from {{ ref('int_as_of') }}
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    ) as history_cutoffs
{%- endmacro %}

{#- Date `days` days before a date expression, as a date. -#}
{% macro days_before(date_expr, days) -%}
    cast({{ dbt.dateadd('day', -1 * days, date_expr) }} as date)
{%- endmacro %}

{#- Timestamp `days` days before a timestamp expression. -#}
{% macro ts_days_before(ts_expr, days) -%}
    {{ dbt.dateadd('day', -1 * days, ts_expr) }}
{%- endmacro %}

{#- {slug: [category, ...]} of every product / order-line category, read at execution time. -#}
{% macro category_slug_map() -%}
    {%- set products = ref('stg_raw__products') -%}
    {%- set order_items = ref('fct_order_items') -%}
    {%- set mapping = {} -%}
    {#- In a unit test refs are fixture CTEs (__dbt__cte__*), not tables: no categories. -#}
    {%- if execute and not (order_items | string).startswith('__dbt__cte__') -%}
        {%- set query -%}
            select distinct category from {{ products }} where category is not null
            union
            select distinct category from {{ order_items }} where category is not null
        {%- endset -%}
        {%- set categories = run_query(query).columns[0].values() | sort -%}
        {%- for category in categories -%}
            {%- set slug = slugify(category) -%}
            {%- if slug not in mapping -%}
                {%- do mapping.update({slug: []}) -%}
            {%- endif -%}
            {%- do mapping[slug].append(category) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(mapping) -}}
{%- endmacro %}

{% macro customer_feature_ctes(cutoffs_sql, existing_only=true) -%}

cutoffs as (

    {{ cutoffs_sql }}

),

source_presence as (

    select
        case when exists (select 1 from {{ ref('int_events_sessionized') }}) then true else false end
            as has_events,
        case when exists (select 1 from {{ ref('fct_order_items') }}) then true else false end
            as has_order_items

),

-- customers known by each cutoff (signed up or ordered before it; undated profiles always)
universe as (

    select
        cutoffs.as_of_date,
        cutoffs.cutoff_date,
        cutoffs.cutoff_ts,
        customers.customer_id,
        customers.customer_key,
        customers.has_profile,
        customers.exists_from
    from cutoffs
    cross join {{ ref('int_customers_unioned') }} as customers
    {%- if existing_only %}
    where customers.exists_from is null or customers.exists_from < cutoffs.cutoff_ts
    {%- endif %}

),

demographics as (

    select
        universe.cutoff_date,
        universe.customer_id,
        case
            when profiles.birth_date <= universe.cutoff_date
                then cast(floor(
                    {{ dbt.datediff('profiles.birth_date', 'universe.cutoff_date', 'day') }} / 365.25
                ) as {{ dbt.type_int() }})
        end as age,
        profiles.gender,
        profiles.country,
        profiles.city,
        profiles.acquisition_channel,
        profiles.marketing_consent,
        case when profiles.signup_at < universe.cutoff_ts then profiles.signup_at end as signup_at,
        case
            when universe.exists_from < universe.cutoff_ts
                then {{ dbt.datediff('cast(universe.exists_from as date)', 'universe.cutoff_date', 'day') }}
        end as tenure_days
    from universe
    left join {{ ref('int_customer_profiles') }} as profiles
        on universe.customer_id = profiles.customer_id

),

demographics_banded as (

    select
        demographics.*,
        age_bands.age_band
    from demographics
    left join {{ ref('age_bands') }} as age_bands
        on demographics.age between age_bands.min_age and age_bands.max_age

),

orders_by_cutoff as (

    select
        cutoffs.cutoff_date,
        cutoffs.cutoff_ts,
        orders.*
    from {{ ref('fct_orders') }} as orders
    inner join cutoffs on orders.ordered_at < cutoffs.cutoff_ts

),

order_aggregates as (

    select
        cutoff_date,
        customer_id,
        count(*) as orders_total,
        sum(case when is_completed then 1 else 0 end) as frequency,
        min(case when is_completed then ordered_at end) as first_order_at,
        max(case when is_completed then ordered_at end) as last_order_at,
        sum(case when is_completed then coalesce(total_amount, 0) else 0 end) as monetary,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 30) }}
            then 1 else 0 end) as orders_30d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 90) }}
            then 1 else 0 end) as orders_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 180) }}
            and ordered_at < {{ ts_days_before('cutoff_ts', 90) }} then 1 else 0 end) as orders_prev_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 90) }}
            then coalesce(total_amount, 0) else 0 end) as revenue_90d,
        sum(case when is_completed and ordered_at >= {{ ts_days_before('cutoff_ts', 180) }}
            and ordered_at < {{ ts_days_before('cutoff_ts', 90) }}
            then coalesce(total_amount, 0) else 0 end) as revenue_prev_90d,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_orders,
        sum(case when status = 'returned' then 1 else 0 end) as returned_orders,
        sum(case when is_completed then coalesce(discount_amount, 0) else 0 end) as discount_total,
        sum(case when is_completed then coalesce(total_amount, 0) + coalesce(discount_amount, 0)
            else 0 end) as gross_total,
        sum(case when is_completed then coalesce(gross_margin, total_amount, 0) else 0 end)
            as historical_clv
    from orders_by_cutoff
    group by cutoff_date, customer_id

),

channel_ranked as (

    select
        cutoff_date,
        customer_id,
        channel,
        row_number() over (
            partition by cutoff_date, customer_id order by count(*) desc, channel
        ) as channel_rank
    from orders_by_cutoff
    where is_completed and channel is not null
    group by cutoff_date, customer_id, channel

),

order_features as (

    select
        universe.cutoff_date,
        universe.customer_id,
        order_aggregates.first_order_at,
        order_aggregates.last_order_at,
        {{ dbt.datediff('cast(order_aggregates.last_order_at as date)', 'universe.cutoff_date', 'day') }}
            as recency_days,
        coalesce(order_aggregates.frequency, 0) as frequency,
        coalesce(order_aggregates.monetary, 0) as monetary,
        {{ safe_divide('order_aggregates.monetary', 'order_aggregates.frequency') }} as avg_order_value,
        coalesce(order_aggregates.orders_30d, 0) as orders_30d,
        coalesce(order_aggregates.orders_90d, 0) as orders_90d,
        coalesce(order_aggregates.orders_prev_90d, 0) as orders_prev_90d,
        coalesce(order_aggregates.revenue_90d, 0) as revenue_90d,
        coalesce(order_aggregates.revenue_prev_90d, 0) as revenue_prev_90d,
        case
            when order_aggregates.frequency > 1
                then {{ dbt.datediff('order_aggregates.first_order_at', 'order_aggregates.last_order_at', 'second') }}
                    / 86400.0 / (order_aggregates.frequency - 1)
        end as mean_interpurchase_days,
        {{ safe_divide('order_aggregates.cancelled_orders', 'order_aggregates.orders_total') }} as cancel_rate,
        {{ safe_divide('order_aggregates.returned_orders', 'order_aggregates.orders_total') }} as return_rate,
        {{ safe_divide('order_aggregates.discount_total', 'order_aggregates.gross_total') }} as discount_share,
        coalesce(order_aggregates.historical_clv, 0) as historical_clv,
        channel_ranked.channel as preferred_channel
    from universe
    left join order_aggregates
        on universe.cutoff_date = order_aggregates.cutoff_date
        and universe.customer_id = order_aggregates.customer_id
    left join channel_ranked
        on universe.cutoff_date = channel_ranked.cutoff_date
        and universe.customer_id = channel_ranked.customer_id
        and channel_ranked.channel_rank = 1

),

category_revenue as (

    select
        cutoffs.cutoff_date,
        order_items.customer_id,
        order_items.category,
        sum(order_items.line_revenue) as revenue
    from {{ ref('fct_order_items') }} as order_items
    inner join cutoffs on order_items.ordered_at < cutoffs.cutoff_ts
    where order_items.is_completed
    group by cutoffs.cutoff_date, order_items.customer_id, order_items.category

),

category_ranked as (

    select
        *,
        -- Ranked on revenue in cents: two categories with the same revenue must tie on
        -- every run, whatever order a parallel sum added the lines in (float noise).
        row_number() over (
            partition by cutoff_date, customer_id order by round(revenue, 2) desc, category
        ) as category_rank
    from category_revenue

),

category_features as (

    select
        cutoff_date,
        customer_id,
        {%- for slug, categories in category_slug_map() | dictsort %}
        {{ safe_divide(
            "sum(case when category in ('" ~ (categories | map('replace', "'", "''") | join("', '")) ~ "') then revenue else 0 end)",
            'sum(revenue)'
        ) }} as cat_share_{{ slug }},
        {%- endfor %}
        count(*) as distinct_categories,
        max(case when category_rank = 1 then category end) as top_category
    from category_ranked
    group by cutoff_date, customer_id

),

rfm_scored as (

    -- monetary is ranked in cents: equal spend must tie on every run, whatever order a
    -- parallel sum added the orders in (float noise would split the tie).
    select
        cutoff_date,
        customer_id,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by recency_days desc) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_recency_score,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by frequency) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_frequency_score,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by round(monetary, 2)) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_monetary_score
    from order_features
    where frequency > 0

),

rfm as (

    select
        rfm_scored.*,
        rfm_scored.rfm_recency_score + rfm_scored.rfm_frequency_score + rfm_scored.rfm_monetary_score
            as rfm_score,
        rfm_classes.rfm_class
    from rfm_scored
    left join {{ ref('rfm_classes') }} as rfm_classes
        on rfm_scored.rfm_recency_score = rfm_classes.recency_score
        and cast(floor((rfm_scored.rfm_frequency_score + rfm_scored.rfm_monetary_score + 1) / 2.0)
            as {{ dbt.type_int() }}) = rfm_classes.frequency_monetary_score

),

activity_by_cutoff as (

    select
        cutoffs.cutoff_date,
        activity.*
    from {{ ref('int_customer_daily_activity') }} as activity
    inner join cutoffs on activity.activity_date <= cutoffs.cutoff_date

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
        max(case when sessions > 0 then activity_date end) as last_visit_date,
        {%- for measure in ['product_views', 'cart_adds', 'sessions_with_product_view',
            'sessions_with_cart_add', 'viewed_cart_sessions', 'converted_cart_sessions', 'email_sends', 'email_opens',
            'email_clicks'] %}
        sum(case when activity_date > {{ days_before('cutoff_date', 90) }} then {{ measure }} else 0 end)
            as {{ measure }}_90d{{ ',' if not loop.last }}
        {%- endfor %}
    from activity_by_cutoff
    group by cutoff_date, customer_id

),

engagement as (

    select
        universe.cutoff_date,
        universe.customer_id,
        {%- for measure in ['sessions_7d', 'sessions_30d', 'sessions_90d', 'sessions_prev_30d',
            'product_views_90d', 'cart_adds_90d', 'sessions_with_product_view_90d',
            'sessions_with_cart_add_90d', 'viewed_cart_sessions_90d', 'converted_cart_sessions_90d', 'email_sends_90d',
            'email_opens_90d', 'email_clicks_90d'] %}
        case
            when source_presence.has_events
                then cast(coalesce(engagement_aggregates.{{ measure }}, 0) as {{ dbt.type_bigint() }})
        end as {{ measure }},
        {%- endfor %}
        engagement_aggregates.last_visit_date
    from universe
    cross join source_presence
    left join engagement_aggregates
        on universe.cutoff_date = engagement_aggregates.cutoff_date
        and universe.customer_id = engagement_aggregates.customer_id

)

{%- endmacro %}


{#- The customer_360 column list (interfaces.md), from the CTEs above. -#}
{% macro customer_360_select(with_cutoff_date=false) -%}
select
    -- ids
    universe.customer_id,
    universe.customer_key,
    universe.as_of_date,
    {%- if with_cutoff_date %}
    universe.cutoff_date,
    {%- endif %}

    -- demographics
    demographics_banded.age,
    demographics_banded.age_band,
    demographics_banded.gender,
    demographics_banded.country,
    demographics_banded.city,
    demographics_banded.acquisition_channel,
    demographics_banded.marketing_consent,
    demographics_banded.signup_at,
    demographics_banded.tenure_days,

    -- transactions
    order_features.first_order_at,
    order_features.last_order_at,
    order_features.recency_days,
    cast(order_features.frequency as {{ dbt.type_bigint() }}) as frequency,
    cast(order_features.monetary as {{ type_double() }}) as monetary,
    order_features.avg_order_value,
    cast(order_features.orders_30d as {{ dbt.type_bigint() }}) as orders_30d,
    cast(order_features.orders_90d as {{ dbt.type_bigint() }}) as orders_90d,
    cast(order_features.orders_prev_90d as {{ dbt.type_bigint() }}) as orders_prev_90d,
    cast(order_features.revenue_90d as {{ type_double() }}) as revenue_90d,
    cast(order_features.revenue_prev_90d as {{ type_double() }}) as revenue_prev_90d,
    cast(order_features.mean_interpurchase_days as {{ type_double() }}) as mean_interpurchase_days,
    order_features.cancel_rate,
    order_features.return_rate,
    order_features.discount_share,
    cast(order_features.historical_clv as {{ type_double() }}) as historical_clv,

    -- categories
    case
        when source_presence.has_order_items
            then cast(coalesce(category_features.distinct_categories, 0) as {{ dbt.type_bigint() }})
    end as distinct_categories,
    category_features.top_category,
    order_features.preferred_channel,
    {%- for slug in category_slug_map() | sort %}
    category_features.cat_share_{{ slug }},
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
    {{ dbt.datediff('engagement.last_visit_date', 'universe.cutoff_date', 'day') }} as days_since_last_visit,
    engagement.product_views_90d,
    engagement.cart_adds_90d,
    {{ safe_divide('engagement.viewed_cart_sessions_90d', 'engagement.sessions_with_product_view_90d') }}
        as view_to_cart_rate,
    {{ safe_divide('engagement.converted_cart_sessions_90d', 'engagement.sessions_with_cart_add_90d') }}
        as cart_to_purchase_rate,
    engagement.email_sends_90d,
    engagement.email_opens_90d,
    engagement.email_clicks_90d,
    {{ safe_divide('engagement.email_opens_90d', 'engagement.email_sends_90d') }} as email_open_rate,
    {{ safe_divide('engagement.email_clicks_90d', 'engagement.email_sends_90d') }} as email_click_rate,
    engagement.sessions_prev_30d,
    {{ safe_divide('engagement.sessions_30d', 'engagement.sessions_prev_30d') }} as engagement_trend

from universe
cross join source_presence
left join demographics_banded
    on universe.cutoff_date = demographics_banded.cutoff_date
    and universe.customer_id = demographics_banded.customer_id
left join order_features
    on universe.cutoff_date = order_features.cutoff_date
    and universe.customer_id = order_features.customer_id
left join category_features
    on universe.cutoff_date = category_features.cutoff_date
    and universe.customer_id = category_features.customer_id
left join rfm
    on universe.cutoff_date = rfm.cutoff_date
    and universe.customer_id = rfm.customer_id
left join engagement
    on universe.cutoff_date = engagement.cutoff_date
    and universe.customer_id = engagement.customer_id
{%- endmacro %}
