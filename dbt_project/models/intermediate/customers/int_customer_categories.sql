{{ config(materialized='table') }}

{#- Category mix of every customer at every cutoff, from completed order lines placed before
    cutoff_ts: distinct categories, the top category by revenue and one cat_share_<slug> column
    per product category in the data (share of the customer's completed line revenue; slug =
    category lower-cased, every non [a-z0-9] character replaced by _). The shares are pivoted
    here only; customer_360 and customer_order_metrics pass these columns on. Without order
    lines in the data distinct_categories is null, not 0. -#}

{%- set slugs = category_slug_map() %}

with

cutoffs as (

    select cutoff_date, cutoff_ts from {{ ref('int_customer_cutoffs') }}

),

source_presence as (

    select
        case when exists (select 1 from {{ ref('fct_order_items') }}) then true else false end
            as has_order_items

),

category_revenue as (

    select
        cutoffs.cutoff_date,
        order_items.customer_id,
        order_items.category,
        sum(order_items.line_revenue_base) as revenue
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
        {%- for slug, categories in slugs | dictsort %}
        {{ safe_divide(
            "sum(case when category in ('" ~ (categories | map('replace', "'", "''") | join("', '")) ~ "') then revenue else 0 end)",
            'sum(revenue)'
        ) }} as cat_share_{{ slug }},
        {%- endfor %}
        count(*) as distinct_categories,
        max(case when category_rank = 1 then category end) as top_category
    from category_ranked
    group by cutoff_date, customer_id

)

select
    -- keys
    universe.customer_id,
    universe.cutoff_date,

    -- categories
    case
        when source_presence.has_order_items
            then cast(coalesce(category_features.distinct_categories, 0) as {{ dbt.type_bigint() }})
    end as distinct_categories,
    category_features.top_category{{ ',' if slugs }}

    -- category shares
    {%- for slug in slugs | sort %}
    category_features.cat_share_{{ slug }}{{ ',' if not loop.last }}
    {%- endfor %}

from {{ ref('int_customer_universe') }} as universe
cross join source_presence
left join category_features
    on universe.cutoff_date = category_features.cutoff_date
    and universe.customer_id = category_features.customer_id
