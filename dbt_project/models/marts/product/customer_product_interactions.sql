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

    select as_of_date from {{ ref('int_as_of') }}

),

cutoffs as (

    select as_of_date as cutoff_date, as_of_date from as_of
    union all
    select
        cast({{ dbt.dateadd('day', -1 * var('rec_eval_days'), 'as_of_date') }} as date) as cutoff_date,
        as_of_date
    from as_of

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

purchases as (

    select
        cutoffs.cutoff_date,
        lines.customer_id,
        lines.product_id,
        count(distinct case when lines.status = 'completed' then lines.order_id end) as purchase_orders,
        count(distinct case
            when lines.status = 'completed'
                and lines.order_date > {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_date') }}
                then lines.order_id
        end) as purchase_orders_90d,
        count(distinct case when lines.status = 'completed' then lines.order_date end) as purchase_days,
        coalesce(sum(case when lines.status = 'completed' then lines.quantity end), 0) as units,
        min(case when lines.status = 'completed' then lines.order_date end) as first_purchase_date,
        max(case when lines.status = 'completed' then lines.order_date end) as last_purchase_date,
        count(distinct case when lines.status = 'returned' then lines.order_id end) as returned_orders,
        max(case when lines.status = 'returned' then lines.order_date end) as last_return_date
    from lines
    inner join cutoffs on lines.order_date <= cutoffs.cutoff_date
    group by cutoffs.cutoff_date, lines.customer_id, lines.product_id

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
