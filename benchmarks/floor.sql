-- The floor: customer_360 and daily_demand computed by hand, in one DuckDB connection,
-- from the same raw.* tables the dbt project reads. `python -m benchmarks` runs this on a
-- copy of the ingested warehouse and compares its time with the dbt stage's.
--
-- It follows dbt_project/models/intermediate/customers/int_customer_* (one cutoff: the as-of date) and
-- models/marts/transactional/daily_demand.sql: the same dedupe (latest load wins), cleaning,
-- sessionization, windows, RFM quintiles and revenue allocation, and the same money: every
-- amount converted to the base currency (EUR) at the latest rate on or before the order
-- date, DECIMAL cents, averages rounded to cents. What it leaves out is what
-- the floor does not need: views, the intermediate/mart tables nobody asked for
-- (customer_360_history, fct_sessions, cohorts, ...), tests, incremental bookkeeping.
-- Outputs: floor.customer_360 and floor.daily_demand. Idempotent (create or replace).

create schema if not exists floor;

-- ------------------------------------------------------------------ reference data (seeds)
create or replace temp table f_age_bands as
select * from (values
    ('under_18', 0, 17), ('18-24', 18, 24), ('25-34', 25, 34), ('35-44', 35, 44),
    ('45-54', 45, 54), ('55-64', 55, 64), ('65+', 65, 150)
) as t(age_band, min_age, max_age);

create or replace temp table f_rfm_classes as
select * from (values
    (5, 1, 'new_customers'), (5, 2, 'potential_loyalist'), (5, 3, 'potential_loyalist'),
    (5, 4, 'champions'), (5, 5, 'champions'),
    (4, 1, 'promising'), (4, 2, 'potential_loyalist'), (4, 3, 'potential_loyalist'),
    (4, 4, 'loyal_customers'), (4, 5, 'loyal_customers'),
    (3, 1, 'about_to_sleep'), (3, 2, 'about_to_sleep'), (3, 3, 'need_attention'),
    (3, 4, 'loyal_customers'), (3, 5, 'loyal_customers'),
    (2, 1, 'hibernating'), (2, 2, 'hibernating'), (2, 3, 'at_risk'), (2, 4, 'at_risk'),
    (2, 5, 'cant_lose'),
    (1, 1, 'lost'), (1, 2, 'lost'), (1, 3, 'at_risk'), (1, 4, 'at_risk'), (1, 5, 'cant_lose')
) as t(recency_score, frequency_monetary_score, rfm_class);

create or replace temp table f_country_names as
select * from (values
    ('united states', 'US'), ('united states of america', 'US'), ('usa', 'US'),
    ('america', 'US'), ('united kingdom', 'GB'), ('uk', 'GB'), ('great britain', 'GB'),
    ('england', 'GB'), ('gbr', 'GB'), ('germany', 'DE'), ('deutschland', 'DE'), ('deu', 'DE'),
    ('france', 'FR'), ('fra', 'FR'), ('spain', 'ES'), ('espana', 'ES'), ('españa', 'ES'),
    ('esp', 'ES'), ('italy', 'IT'), ('italia', 'IT'), ('ita', 'IT'), ('netherlands', 'NL'),
    ('the netherlands', 'NL'), ('holland', 'NL'), ('nld', 'NL'), ('belgium', 'BE'),
    ('bel', 'BE'), ('austria', 'AT'), ('aut', 'AT'), ('switzerland', 'CH'), ('che', 'CH'),
    ('poland', 'PL'), ('pol', 'PL'), ('sweden', 'SE'), ('swe', 'SE'), ('norway', 'NO'),
    ('nor', 'NO'), ('denmark', 'DK'), ('dnk', 'DK'), ('finland', 'FI'), ('fin', 'FI'),
    ('ireland', 'IE'), ('irl', 'IE'), ('portugal', 'PT'), ('prt', 'PT'), ('canada', 'CA'),
    ('can', 'CA'), ('mexico', 'MX'), ('mex', 'MX'), ('brazil', 'BR'), ('brasil', 'BR'),
    ('bra', 'BR'), ('australia', 'AU'), ('aus', 'AU'), ('new zealand', 'NZ'), ('nzl', 'NZ'),
    ('japan', 'JP'), ('jpn', 'JP'), ('china', 'CN'), ('chn', 'CN'), ('india', 'IN'),
    ('ind', 'IN'), ('south africa', 'ZA'), ('zaf', 'ZA'), ('czech republic', 'CZ'),
    ('czechia', 'CZ'), ('cze', 'CZ'), ('greece', 'GR'), ('grc', 'GR'), ('hungary', 'HU'),
    ('hun', 'HU'), ('romania', 'RO'), ('rou', 'RO'), ('turkey', 'TR'), ('tur', 'TR')
) as t(name, code);

-- ------------------------------------------------------------------ staging (latest load wins)
create or replace temp table f_customers as
with ranked as (
    select
        *,
        nullif(lower(trim(cast(gender as varchar))), '') as g,
        nullif(lower(trim(cast(country as varchar))), '') as c
    from raw.customers
    where trim(customer_id) is not null
    qualify row_number() over (
        partition by trim(customer_id)
        order by _loaded_at desc nulls last, updated_at desc nulls last,
            _source_file desc, _source_line desc
    ) = 1
)
select
    nullif(trim(customer_id), '') as customer_id,
    cast(birth_date as date) as birth_date,
    case
        when g is null then 'unknown'
        when g in ('f', 'female', 'w', 'woman', 'women', 'girl', 'fem', 'weiblich', 'femme', 'mujer')
            then 'female'
        when g in ('m', 'male', 'man', 'men', 'boy', 'mann', 'männlich', 'homme', 'hombre')
            then 'male'
        when g in ('u', 'unknown', 'n/a', 'na', 'none', 'null', '?', 'prefer not to say', 'unspecified')
            then 'unknown'
        else 'other'
    end as gender,
    case when c is null then null else coalesce(names.code, upper(c)) end as country,
    nullif(trim(city), '') as city,
    nullif(lower(trim(acquisition_channel)), '') as acquisition_channel,
    cast(marketing_consent as boolean) as marketing_consent,
    cast(signup_at as timestamp) as signup_at
from ranked
left join f_country_names as names on ranked.c = names.name;

create or replace temp table f_products as
select
    nullif(trim(product_id), '') as product_id,
    coalesce(nullif(lower(trim(category)), ''), 'unknown') as category,
    cast(unit_cost as decimal(18, 2)) as unit_cost
from raw.products
where trim(product_id) is not null
qualify row_number() over (
    partition by trim(product_id)
    order by _loaded_at desc nulls last, _source_file desc, _source_line desc
) = 1;

-- every staged order (customer or time may be null); fct_orders keeps the complete ones
create or replace temp table f_orders_staged as
select
    nullif(trim(order_id), '') as order_id,
    nullif(trim(customer_id), '') as customer_id,
    nullif(lower(trim(status)), '') as status,
    nullif(lower(trim(channel)), '') as channel,
    nullif(lower(trim(store_region)), '') as store_region,
    coalesce(upper(nullif(trim(currency), '')), 'EUR') as currency,
    cast(total_amount as decimal(18, 2)) as total_amount,
    cast(coalesce(discount_amount, 0) as decimal(18, 2)) as discount_amount,
    cast(ordered_at as timestamp) as ordered_at
from raw.orders
where trim(order_id) is not null
qualify row_number() over (
    partition by trim(order_id)
    order by _loaded_at desc nulls last, _source_file desc, _source_line desc
) = 1;

-- The rate of each order to the base currency (EUR, the project's default): 1 in EUR,
-- else the latest usable raw.fx_rates rate dated on or before the order date (ASOF join).
create or replace temp table f_rates as
select upper(trim(currency)) as currency, cast("date" as date) as rate_date, rate_to_base
from raw.fx_rates
where "date" is not null and trim(currency) <> ''
qualify row_number() over (
    partition by cast("date" as date), upper(trim(currency))
    order by _loaded_at desc nulls last, _source_file desc, _source_line desc
) = 1;

create or replace temp table f_order_rates as
select
    o.order_id,
    case when o.currency = 'EUR' then cast(1 as decimal(18, 10)) else r.rate_to_base end as rate
from f_orders_staged as o
asof left join (select * from f_rates where rate_to_base > 0 and currency <> 'EUR') as r
    on o.currency = r.currency and cast(o.ordered_at as date) >= r.rate_date;

-- line_revenue and line_margin in the base currency, in cents
create or replace temp table f_lines as
select
    nullif(trim(items.order_id), '') as order_id,
    coalesce(products.category, 'unknown') as category,
    cast(items.quantity as integer) as quantity,
    cast(round(cast(round(cast(items.quantity as integer) * items.unit_price
        - coalesce(items.discount_amount, 0), 2) as decimal(38, 2)) * rates.rate, 2)
        as decimal(18, 2)) as line_revenue,
    cast(round(cast(round(cast(items.quantity as integer) * items.unit_price
        - coalesce(items.discount_amount, 0), 2) as decimal(38, 2)) * rates.rate, 2)
        as decimal(18, 2))
        - cast(round(cast(items.quantity as integer) * products.unit_cost, 2) as decimal(18, 2))
        as line_margin
from raw.order_items as items
left join f_products as products on nullif(trim(items.product_id), '') = products.product_id
left join f_order_rates as rates on nullif(trim(items.order_id), '') = rates.order_id
where trim(items.order_id) <> '' and trim(items.product_id) <> ''
qualify row_number() over (
    partition by trim(items.order_id), trim(items.product_id)
    order by items._loaded_at desc nulls last, items._source_file desc, items._source_line desc
) = 1;

-- Events: duplicates are rare, so only keys that occur twice go through the window.
create or replace temp table f_events as
with dup_keys as (
    select trim(event_id) as k
    from raw.events
    where trim(event_id) is not null
    group by 1
    having count(*) > 1
),
deduped as (
    select event_id, customer_id, anonymous_id, session_id, event_type, occurred_at
    from raw.events
    where trim(event_id) is not null and trim(event_id) not in (select k from dup_keys)
    union all
    select event_id, customer_id, anonymous_id, session_id, event_type, occurred_at
    from raw.events
    where trim(event_id) in (select k from dup_keys)
    qualify row_number() over (
        partition by trim(event_id)
        order by _loaded_at desc nulls last, _source_file desc, _source_line desc
    ) = 1
)
select
    nullif(trim(event_id), '') as event_id,
    nullif(trim(customer_id), '') as customer_id,
    nullif(trim(anonymous_id), '') as anonymous_id,
    nullif(trim(session_id), '') as session_id,
    nullif(lower(trim(event_type)), '') as event_type,
    cast(occurred_at as timestamp) as occurred_at
from deduped
where occurred_at is not null;

-- ------------------------------------------------------------------ as-of date
create or replace temp table f_as_of as
select
    cast(max(latest_at) as date) as as_of_date,
    cast(cast(max(latest_at) as date) + interval 1 day as timestamp) as cutoff_ts
from (
    select max(ordered_at) as latest_at from f_orders_staged
    union all
    select max(occurred_at) from f_events
);

-- ------------------------------------------------------------------ orders and lines
create or replace temp table f_orders as
with line_totals as (
    select
        order_id,
        case when count(*) = count(line_margin) then sum(line_margin) end as gross_margin
    from f_lines
    group by order_id
)
select
    -- amounts in the base currency from here on (null without a usable rate)
    orders.* replace (
        cast(round(cast(orders.total_amount as decimal(38, 2)) * rates.rate, 2)
            as decimal(18, 2)) as total_amount,
        cast(round(cast(orders.discount_amount as decimal(38, 2)) * rates.rate, 2)
            as decimal(18, 2)) as discount_amount
    ),
    cast(orders.ordered_at as date) as order_date,
    coalesce(orders.status = 'completed', false) as is_completed,
    line_totals.gross_margin
from f_orders_staged as orders
left join f_order_rates as rates on orders.order_id = rates.order_id
left join line_totals on orders.order_id = line_totals.order_id
where orders.customer_id is not null and orders.ordered_at is not null;

-- ------------------------------------------------------------------ sessions
-- Visit events without a session_id are sessionized per actor: a new session after 30
-- minutes of inactivity or at midnight. Messaging events belong to no session.
create or replace temp table f_sessions as
with classified as (
    select
        *,
        case
            when customer_id is not null then 'customer:' || customer_id
            when anonymous_id is not null then 'anonymous:' || anonymous_id
            else 'event:' || event_id
        end as actor_key,
        case
            when event_type in ('email_send', 'email_open', 'email_click', 'email_unsubscribe')
                then 'none'
            when session_id is not null then 'given'
            else 'inactivity'
        end as session_source
    from f_events
),
starts as (
    select
        *,
        case
            when lag(occurred_at) over w is null then 1
            when cast(lag(occurred_at) over w as date) <> cast(occurred_at as date) then 1
            when date_diff('second', lag(occurred_at) over w, occurred_at) > 1800 then 1
            else 0
        end as is_start
    from classified
    where session_source = 'inactivity'
    window w as (partition by actor_key order by occurred_at, event_id)
),
keyed as (
    select
        'g|' || session_id as session_key, customer_id, event_type, occurred_at
    from classified
    where session_source = 'given'
    union all
    select
        'i|' || actor_key || '|' || sum(is_start) over (
            partition by actor_key order by occurred_at, event_id
            rows between unbounded preceding and current row
        ),
        customer_id, event_type, occurred_at
    from starts
)
select
    max(customer_id) as customer_id,
    cast(min(occurred_at) as date) as session_date,
    count(*) filter (where event_type = 'product_view') as product_views,
    count(*) filter (where event_type = 'add_to_cart') as cart_adds,
    count(*) filter (where event_type = 'purchase') > 0 as converted
from keyed
group by session_key;

-- ------------------------------------------------------------------ category shares
-- Completed revenue per customer and category before the cutoff; one cat_share_<slug>
-- column per category (a dynamic PIVOT needs a table, not a CTE).
create or replace temp table f_category_revenue as
select o.customer_id, l.category, sum(l.line_revenue) as revenue
from f_lines as l
inner join f_orders as o on l.order_id = o.order_id
cross join f_as_of as a
where o.is_completed and o.ordered_at < a.cutoff_ts
group by o.customer_id, l.category;

create or replace temp table f_category_pivot as
pivot (
    select
        customer_id,
        'cat_rev_' || regexp_replace(category, '[^a-z0-9]', '_', 'g') as slug,
        revenue
    from f_category_revenue
) on slug using sum(revenue) group by customer_id;

-- ------------------------------------------------------------------ customer_360
create or replace table floor.customer_360 as
with
universe as (
    select
        u.customer_id,
        -- the keyed identifier hash (segmint.privacy): HMAC-SHA256 with the warehouse's pads
        sha256(
            (select opad from _segmint.hash_key)
            || unhex(sha256((select ipad from _segmint.hash_key) || encode(sha256(trim(u.customer_id)))))
        ) as customer_key,
        least(profiles.signup_at, firsts.first_order_at) as exists_from
    from (
        select customer_id from f_customers
        union
        select customer_id from f_orders_staged where customer_id is not null
    ) as u
    left join f_customers as profiles on u.customer_id = profiles.customer_id
    left join (
        select customer_id, min(ordered_at) as first_order_at
        from f_orders_staged
        where customer_id is not null
        group by customer_id
    ) as firsts on u.customer_id = firsts.customer_id
    where least(profiles.signup_at, firsts.first_order_at) is null
        or least(profiles.signup_at, firsts.first_order_at) < (select cutoff_ts from f_as_of)
),
demographics as (
    select
        universe.customer_id,
        case
            when p.birth_date <= a.as_of_date
                then cast(floor(date_diff('day', p.birth_date, a.as_of_date) / 365.25) as integer)
        end as age,
        p.gender,
        p.country,
        p.city,
        p.acquisition_channel,
        p.marketing_consent,
        case when p.signup_at < a.cutoff_ts then p.signup_at end as signup_at,
        case
            when universe.exists_from < a.cutoff_ts
                then date_diff('day', cast(universe.exists_from as date), a.as_of_date)
        end as tenure_days
    from universe
    cross join f_as_of as a
    left join f_customers as p on universe.customer_id = p.customer_id
),
order_aggregates as (
    select
        o.customer_id,
        count(*) as orders_total,
        count(*) filter (where is_completed) as frequency,
        min(ordered_at) filter (where is_completed) as first_order_at,
        max(ordered_at) filter (where is_completed) as last_order_at,
        sum(case when is_completed then coalesce(total_amount, 0) else 0 end) as monetary,
        count(*) filter (where is_completed and ordered_at >= a.cutoff_ts - interval 30 day)
            as orders_30d,
        count(*) filter (where is_completed and ordered_at >= a.cutoff_ts - interval 90 day)
            as orders_90d,
        count(*) filter (where is_completed and ordered_at >= a.cutoff_ts - interval 180 day
            and ordered_at < a.cutoff_ts - interval 90 day) as orders_prev_90d,
        sum(case when is_completed and ordered_at >= a.cutoff_ts - interval 90 day
            then coalesce(total_amount, 0) else 0 end) as revenue_90d,
        sum(case when is_completed and ordered_at >= a.cutoff_ts - interval 180 day
            and ordered_at < a.cutoff_ts - interval 90 day
            then coalesce(total_amount, 0) else 0 end) as revenue_prev_90d,
        count(*) filter (where status = 'cancelled') as cancelled_orders,
        count(*) filter (where status = 'returned') as returned_orders,
        sum(case when is_completed then coalesce(discount_amount, 0) else 0 end)
            as discount_total,
        sum(case when is_completed then coalesce(total_amount, 0) + coalesce(discount_amount, 0)
            else 0 end) as gross_total,
        sum(case when is_completed then coalesce(gross_margin, total_amount, 0) else 0 end)
            as historical_clv
    from f_orders as o
    cross join f_as_of as a
    where o.ordered_at < a.cutoff_ts
    group by o.customer_id
),
preferred_channel as (
    select customer_id, arg_min(channel, row(-n, channel)) as preferred_channel
    from (
        select o.customer_id, o.channel, count(*) as n
        from f_orders as o
        cross join f_as_of as a
        where o.ordered_at < a.cutoff_ts and o.is_completed and o.channel is not null
        group by o.customer_id, o.channel
    )
    group by customer_id
),
order_features as (
    select
        universe.customer_id,
        agg.first_order_at,
        agg.last_order_at,
        date_diff('day', cast(agg.last_order_at as date), a.as_of_date) as recency_days,
        coalesce(agg.frequency, 0) as frequency,
        coalesce(agg.monetary, 0) as monetary,
        round(agg.monetary / nullif(cast(agg.frequency as double), 0), 2) as avg_order_value,
        coalesce(agg.orders_30d, 0) as orders_30d,
        coalesce(agg.orders_90d, 0) as orders_90d,
        coalesce(agg.orders_prev_90d, 0) as orders_prev_90d,
        coalesce(agg.revenue_90d, 0) as revenue_90d,
        coalesce(agg.revenue_prev_90d, 0) as revenue_prev_90d,
        case
            when agg.frequency > 1
                then date_diff('second', agg.first_order_at, agg.last_order_at)
                    / 86400.0 / (agg.frequency - 1)
        end as mean_interpurchase_days,
        agg.cancelled_orders / nullif(cast(agg.orders_total as double), 0) as cancel_rate,
        agg.returned_orders / nullif(cast(agg.orders_total as double), 0) as return_rate,
        agg.discount_total / nullif(agg.gross_total, 0) as discount_share,
        coalesce(agg.historical_clv, 0) as historical_clv,
        pc.preferred_channel
    from universe
    cross join f_as_of as a
    left join order_aggregates as agg on universe.customer_id = agg.customer_id
    left join preferred_channel as pc on universe.customer_id = pc.customer_id
),
category_totals as (
    select
        customer_id,
        sum(revenue) as total_revenue,
        count(*) as distinct_categories,
        arg_min(category, row(-round(revenue, 2), category)) as top_category
    from f_category_revenue
    group by customer_id
),
category_features as (
    select
        t.customer_id,
        t.distinct_categories,
        t.top_category,
        coalesce(COLUMNS('^cat_rev_(.*)$'), 0) / nullif(t.total_revenue, 0) as 'cat_share_\1'
    from category_totals as t
    inner join f_category_pivot using (customer_id)
),
rfm_scored as (
    select
        customer_id,
        cast(1 + floor(5.0 * (rank() over (order by recency_days desc) - 1) / count(*) over ())
            as integer) as rfm_recency_score,
        cast(1 + floor(5.0 * (rank() over (order by frequency) - 1) / count(*) over ())
            as integer) as rfm_frequency_score,
        cast(1 + floor(5.0 * (rank() over (order by round(monetary, 2)) - 1) / count(*) over ())
            as integer) as rfm_monetary_score
    from order_features
    where frequency > 0
),
rfm as (
    select
        s.*,
        s.rfm_recency_score + s.rfm_frequency_score + s.rfm_monetary_score as rfm_score,
        c.rfm_class
    from rfm_scored as s
    left join f_rfm_classes as c
        on s.rfm_recency_score = c.recency_score
        and cast(floor((s.rfm_frequency_score + s.rfm_monetary_score + 1) / 2.0) as integer)
            = c.frequency_monetary_score
),
engagement_aggregates as (
    select
        s.customer_id,
        count(*) filter (where session_date > a.as_of_date - 7) as sessions_7d,
        count(*) filter (where session_date > a.as_of_date - 30) as sessions_30d,
        count(*) filter (where session_date > a.as_of_date - 90) as sessions_90d,
        count(*) filter (where session_date > a.as_of_date - 60
            and session_date <= a.as_of_date - 30) as sessions_prev_30d,
        max(session_date) as last_visit_date,
        sum(product_views) filter (where session_date > a.as_of_date - 90) as product_views_90d,
        sum(cart_adds) filter (where session_date > a.as_of_date - 90) as cart_adds_90d,
        count(*) filter (where session_date > a.as_of_date - 90 and product_views > 0)
            as sessions_with_product_view_90d,
        count(*) filter (where session_date > a.as_of_date - 90 and cart_adds > 0)
            as sessions_with_cart_add_90d,
        count(*) filter (where session_date > a.as_of_date - 90 and product_views > 0
            and cart_adds > 0) as viewed_cart_sessions_90d,
        count(*) filter (where session_date > a.as_of_date - 90 and cart_adds > 0 and converted)
            as converted_cart_sessions_90d
    from f_sessions as s
    cross join f_as_of as a
    where s.customer_id is not null and s.session_date <= a.as_of_date
    group by s.customer_id
),
email_aggregates as (
    select
        e.customer_id,
        count(*) filter (where event_type = 'email_send') as email_sends_90d,
        count(*) filter (where event_type = 'email_open') as email_opens_90d,
        count(*) filter (where event_type = 'email_click') as email_clicks_90d
    from f_events as e
    cross join f_as_of as a
    where e.customer_id is not null
        and e.event_type in ('email_send', 'email_open', 'email_click', 'email_unsubscribe')
        and cast(e.occurred_at as date) > a.as_of_date - 90
        and cast(e.occurred_at as date) <= a.as_of_date
    group by e.customer_id
),
presence as (
    select
        exists (select 1 from f_events) as has_events,
        exists (select 1 from f_lines as l inner join f_orders as o on l.order_id = o.order_id)
            as has_order_items
),
engagement as (
    select
        universe.customer_id,
        case when has_events then coalesce(ea.sessions_7d, 0) end as sessions_7d,
        case when has_events then coalesce(ea.sessions_30d, 0) end as sessions_30d,
        case when has_events then coalesce(ea.sessions_90d, 0) end as sessions_90d,
        case when has_events then coalesce(ea.sessions_prev_30d, 0) end as sessions_prev_30d,
        ea.last_visit_date,
        case when has_events then coalesce(ea.product_views_90d, 0) end as product_views_90d,
        case when has_events then coalesce(ea.cart_adds_90d, 0) end as cart_adds_90d,
        coalesce(ea.sessions_with_product_view_90d, 0) as sessions_with_product_view_90d,
        coalesce(ea.sessions_with_cart_add_90d, 0) as sessions_with_cart_add_90d,
        coalesce(ea.viewed_cart_sessions_90d, 0) as viewed_cart_sessions_90d,
        coalesce(ea.converted_cart_sessions_90d, 0) as converted_cart_sessions_90d,
        case when has_events then coalesce(em.email_sends_90d, 0) end as email_sends_90d,
        case when has_events then coalesce(em.email_opens_90d, 0) end as email_opens_90d,
        case when has_events then coalesce(em.email_clicks_90d, 0) end as email_clicks_90d
    from universe
    cross join presence
    left join engagement_aggregates as ea on universe.customer_id = ea.customer_id
    left join email_aggregates as em on universe.customer_id = em.customer_id
)
select
    universe.customer_id,
    universe.customer_key,
    a.as_of_date,
    d.age,
    bands.age_band,
    d.gender,
    d.country,
    d.city,
    d.acquisition_channel,
    d.marketing_consent,
    d.signup_at,
    d.tenure_days,
    o.first_order_at,
    o.last_order_at,
    o.recency_days,
    cast(o.frequency as bigint) as frequency,
    cast(o.monetary as decimal(18, 2)) as monetary,
    o.avg_order_value,
    cast(o.orders_30d as bigint) as orders_30d,
    cast(o.orders_90d as bigint) as orders_90d,
    cast(o.orders_prev_90d as bigint) as orders_prev_90d,
    cast(o.revenue_90d as decimal(18, 2)) as revenue_90d,
    cast(o.revenue_prev_90d as decimal(18, 2)) as revenue_prev_90d,
    cast(o.mean_interpurchase_days as double) as mean_interpurchase_days,
    o.cancel_rate,
    o.return_rate,
    o.discount_share,
    cast(o.historical_clv as decimal(18, 2)) as historical_clv,
    case when presence.has_order_items then coalesce(cf.distinct_categories, 0) end
        as distinct_categories,
    cf.top_category,
    o.preferred_channel,
    cf.* exclude (customer_id, distinct_categories, top_category),
    rfm.rfm_recency_score,
    rfm.rfm_frequency_score,
    rfm.rfm_monetary_score,
    rfm.rfm_score,
    rfm.rfm_class,
    e.sessions_7d,
    e.sessions_30d,
    e.sessions_90d,
    date_diff('day', e.last_visit_date, a.as_of_date) as days_since_last_visit,
    e.product_views_90d,
    e.cart_adds_90d,
    e.viewed_cart_sessions_90d / nullif(cast(e.sessions_with_product_view_90d as double), 0)
        as view_to_cart_rate,
    e.converted_cart_sessions_90d / nullif(cast(e.sessions_with_cart_add_90d as double), 0)
        as cart_to_purchase_rate,
    e.email_sends_90d,
    e.email_opens_90d,
    e.email_clicks_90d,
    least(e.email_opens_90d, e.email_sends_90d) / nullif(cast(e.email_sends_90d as double), 0)
        as email_open_rate,
    least(e.email_clicks_90d, e.email_sends_90d) / nullif(cast(e.email_sends_90d as double), 0)
        as email_click_rate,
    e.sessions_prev_30d,
    e.sessions_30d / nullif(cast(e.sessions_prev_30d as double), 0) as engagement_trend
from universe
cross join f_as_of as a
cross join presence
left join demographics as d on universe.customer_id = d.customer_id
left join f_age_bands as bands on d.age between bands.min_age and bands.max_age
left join order_features as o on universe.customer_id = o.customer_id
left join category_features as cf on universe.customer_id = cf.customer_id
left join rfm on universe.customer_id = rfm.customer_id
left join engagement as e on universe.customer_id = e.customer_id;

-- ------------------------------------------------------------------ daily_demand
create or replace table floor.daily_demand as
with
orders as (
    select
        o.order_id,
        o.order_date,
        coalesce(o.store_region, 'unknown') as store_region,
        coalesce(o.total_amount, 0) as total_amount
    from f_orders as o
    cross join f_as_of as a
    where o.is_completed and o.order_date <= a.as_of_date
),
lines as (
    select
        l.order_id,
        l.category,
        sum(l.quantity) as units,
        sum(l.line_revenue) as line_revenue,
        count(*) as line_count,
        sum(sum(l.line_revenue)) over (partition by l.order_id) as order_line_revenue,
        sum(count(*)) over (partition by l.order_id) as order_line_count
    from f_lines as l
    inner join orders on l.order_id = orders.order_id
    group by l.order_id, l.category
),
order_categories as (
    select
        orders.order_id,
        orders.order_date,
        orders.store_region,
        coalesce(lines.category, 'unknown') as category,
        coalesce(lines.units, 0) as units,
        orders.total_amount * case
            when lines.order_id is null then 1.0
            when lines.order_line_revenue > 0 then lines.line_revenue / lines.order_line_revenue
            else 1.0 * lines.line_count / lines.order_line_count
        end as revenue
    from orders
    left join lines on orders.order_id = lines.order_id
),
observed as (
    select
        order_date,
        category,
        store_region,
        count(distinct order_id) as orders,
        sum(units) as units,
        sum(revenue) as revenue
    from order_categories
    group by order_date, category, store_region
),
spine as (
    select cast(d as date) as date_day
    from range(
        (select cast(min(order_date) as timestamp) from orders),
        (select cast(as_of_date as timestamp) + interval 1 day from f_as_of),
        interval 1 day
    ) as t(d)
)
select
    spine.date_day as demand_date,
    categories.category,
    regions.store_region,
    cast(coalesce(observed.orders, 0) as bigint) as orders,
    cast(coalesce(observed.units, 0) as bigint) as units,
    cast(round(coalesce(observed.revenue, 0), 2) as decimal(18, 2)) as revenue
from spine
cross join (select distinct category from order_categories) as categories
cross join (select distinct store_region from order_categories) as regions
left join observed
    on spine.date_day = observed.order_date
    and categories.category = observed.category
    and regions.store_region = observed.store_region;
