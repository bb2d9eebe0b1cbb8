{#- One row per cutoff_date x customer x product the customer bought, returned, viewed or
    carted: what the recommender fits on (ml/recommend reads nothing else of the shop's
    behaviour). Two cutoffs: the as-of date, and as_of - var('rec_eval_days') for the
    time-split evaluation (fit on the earlier cutoff, check what was bought after it). Only
    rows before the end of a cutoff_date feed it. Purchases count completed orders over the
    whole history; returns count returned orders; views and cart adds count events of the
    last var('rec_event_days') days (zero when the shop sends no events). interaction_weight
    = purchase_orders * var('rec_purchase_weight') + cart_adds * var('rec_cart_weight') +
    product_views * var('rec_view_weight'). -#}

with

as_of as (

    select
        as_of_date,
        cast({{ dbt.dateadd('day', -1 * var('rec_eval_days'), 'as_of_date') }} as date) as eval_date
    from {{ ref('int_as_of') }}

),

cutoffs as (

    select as_of_date as cutoff_date, as_of_date from as_of
    union all
    select eval_date as cutoff_date, as_of_date from as_of

),

products as (

    select product_id, product_name, category, brand
    from {{ ref('stg_raw__products') }}

),

lines as (

    select
        order_items.customer_id,
        order_items.product_id,
        order_items.order_id,
        order_items.order_date,
        order_items.status,
        order_items.quantity
    from {{ ref('fct_order_items') }} as order_items
    where order_items.customer_id is not null and order_items.is_known_product

),

{#- Both cutoffs in one scan of the order lines (a join with the cutoffs would read the whole
    history twice), over one row per order x product (an order's lines of one product summed),
    so order counts are plain counts instead of count(distinct). -#}
{%- set purchase_cutoffs = [('asof', 'as_of.as_of_date'), ('eval', 'as_of.eval_date')] %}

order_products as (

    select
        lines.customer_id,
        lines.product_id,
        lines.order_id,
        lines.order_date,
        lines.status,
        sum(lines.quantity) as quantity
    from lines
    cross join as_of
    where lines.order_date <= as_of.as_of_date
    group by lines.customer_id, lines.product_id, lines.order_id, lines.order_date, lines.status

),

purchases_by_cutoff as (

    select
        {%- for name, cutoff in purchase_cutoffs %}
        {%- set seen = 'order_products.order_date <= ' ~ cutoff %}
        {%- set bought = "order_products.status = 'completed' and " ~ seen %}
        {%- set returned = "order_products.status = 'returned' and " ~ seen %}
        sum(case when {{ seen }} then 1 else 0 end) as {{ name }}_rows,
        sum(case when {{ bought }} then 1 else 0 end) as {{ name }}_purchase_orders,
        sum(case
            when {{ bought }} and order_products.order_date > {{ dbt.dateadd('day', -90, cutoff) }}
                then 1 else 0
        end) as {{ name }}_purchase_orders_90d,
        count(distinct case when {{ bought }} then order_products.order_date end)
            as {{ name }}_purchase_days,
        coalesce(sum(case when {{ bought }} then order_products.quantity end), 0) as {{ name }}_units,
        min(case when {{ bought }} then order_products.order_date end) as {{ name }}_first_purchase_date,
        max(case when {{ bought }} then order_products.order_date end) as {{ name }}_last_purchase_date,
        sum(case when {{ returned }} then 1 else 0 end) as {{ name }}_returned_orders,
        max(case when {{ returned }} then order_products.order_date end) as {{ name }}_last_return_date,
        {%- endfor %}
        order_products.customer_id,
        order_products.product_id
    from order_products
    cross join as_of
    group by order_products.customer_id, order_products.product_id

),

purchases as (
    {%- for name, cutoff in purchase_cutoffs %}

    select
        {{ cutoff }} as cutoff_date,
        purchases_by_cutoff.customer_id,
        purchases_by_cutoff.product_id,
        purchases_by_cutoff.{{ name }}_purchase_orders as purchase_orders,
        purchases_by_cutoff.{{ name }}_purchase_orders_90d as purchase_orders_90d,
        purchases_by_cutoff.{{ name }}_purchase_days as purchase_days,
        purchases_by_cutoff.{{ name }}_units as units,
        purchases_by_cutoff.{{ name }}_first_purchase_date as first_purchase_date,
        purchases_by_cutoff.{{ name }}_last_purchase_date as last_purchase_date,
        purchases_by_cutoff.{{ name }}_returned_orders as returned_orders,
        purchases_by_cutoff.{{ name }}_last_return_date as last_return_date
    from purchases_by_cutoff
    cross join as_of
    where purchases_by_cutoff.{{ name }}_rows > 0
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

customer_orders as (

    select
        cutoffs.cutoff_date,
        lines.customer_id,
        count(distinct lines.order_id) as customer_orders
    from lines
    inner join cutoffs on lines.order_date <= cutoffs.cutoff_date
    where lines.status = 'completed'
    group by cutoffs.cutoff_date, lines.customer_id

),

browsing as (

    select
        cutoffs.cutoff_date,
        events.customer_id,
        events.product_id,
        sum(case when events.event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when events.event_type = 'add_to_cart' then 1 else 0 end) as cart_adds
    from {{ ref('stg_raw__events') }} as events
    inner join cutoffs
        on events.occurred_at < cast({{ dbt.dateadd('day', 1, 'cutoffs.cutoff_date') }} as {{ dbt.type_timestamp() }})
        and events.occurred_at >= cast(
            {{ dbt.dateadd('day', 1 - var('rec_event_days'), 'cutoffs.cutoff_date') }} as {{ dbt.type_timestamp() }}
        )
    inner join products on events.product_id = products.product_id
    where events.customer_id is not null
        and events.event_type in ('product_view', 'add_to_cart')
    group by cutoffs.cutoff_date, events.customer_id, events.product_id

),

combined as (

    select
        coalesce(purchases.cutoff_date, browsing.cutoff_date) as cutoff_date,
        coalesce(purchases.customer_id, browsing.customer_id) as customer_id,
        coalesce(purchases.product_id, browsing.product_id) as product_id,
        coalesce(purchases.purchase_orders, 0) as purchase_orders,
        coalesce(purchases.purchase_orders_90d, 0) as purchase_orders_90d,
        coalesce(purchases.units, 0) as units,
        coalesce(purchases.returned_orders, 0) as returned_orders,
        purchases.purchase_days,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        purchases.last_return_date,
        coalesce(browsing.product_views, 0) as product_views,
        coalesce(browsing.cart_adds, 0) as cart_adds
    from purchases
    full outer join browsing
        on purchases.cutoff_date = browsing.cutoff_date
        and purchases.customer_id = browsing.customer_id
        and purchases.product_id = browsing.product_id

)

select
    -- keys
    combined.cutoff_date,
    combined.customer_id,
    combined.product_id,
    cutoffs.as_of_date,

    -- product attributes (content similarity, reasons)
    products.product_name,
    products.category,
    products.brand,

    -- purchases
    cast(coalesce(customer_orders.customer_orders, 0) as {{ dbt.type_bigint() }}) as customer_orders,
    cast(combined.purchase_orders as {{ dbt.type_bigint() }}) as purchase_orders,
    cast(combined.purchase_orders_90d as {{ dbt.type_bigint() }}) as purchase_orders_90d,
    cast(combined.units as {{ dbt.type_bigint() }}) as units,
    cast(combined.returned_orders as {{ dbt.type_bigint() }}) as returned_orders,
    combined.first_purchase_date,
    combined.last_purchase_date,
    combined.last_return_date,
    {{ dbt.datediff('combined.last_purchase_date', 'combined.cutoff_date', 'day') }} as days_since_last_purchase,
    cast(case
        when combined.purchase_days >= 2
            then {{ dbt.datediff('combined.first_purchase_date', 'combined.last_purchase_date', 'day') }}
                / (combined.purchase_days - 1.0)
    end as {{ type_double() }}) as repurchase_interval_days,

    -- browsing
    cast(combined.product_views as {{ dbt.type_bigint() }}) as product_views,
    cast(combined.cart_adds as {{ dbt.type_bigint() }}) as cart_adds,

    -- the implicit-feedback weight the recommender fits on
    cast(
        combined.purchase_orders * {{ var('rec_purchase_weight') }}
        + combined.cart_adds * {{ var('rec_cart_weight') }}
        + combined.product_views * {{ var('rec_view_weight') }}
        as {{ type_double() }}
    ) as interaction_weight

from combined
inner join cutoffs on combined.cutoff_date = cutoffs.cutoff_date
left join products on combined.product_id = products.product_id
left join customer_orders
    on combined.cutoff_date = customer_orders.cutoff_date
    and combined.customer_id = customer_orders.customer_id
