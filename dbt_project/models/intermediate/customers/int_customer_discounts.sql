{{ config(materialized='table') }}

{#- Discount sensitivity of every customer at every cutoff (descriptive, not causal), from
    completed orders before cutoff_ts, in the base currency:
    - the share of the customer's gross spend (quantity x unit price) paid by discounts, next
      to the share their categories' norm predicts (each category's discount share over all
      customers before the cutoff, weighted by the customer's gross spend per category);
      discount_share_index = their share / the norm share (1 = like their categories' buyers);
    - purchase rate on past discount days vs other days over the 365 days to cutoff_date. A
      discount day is a day whose shop-wide discount share of gross spend is at least
      var('discount_day_factor') (2) times the median day of those 365 days (promotions show
      up as such days, whatever their depth); the lift is (orders per discount day) / (orders
      per other day), null without orders on other days or without discount days.
    Null without completed orders (lines whose order has no fx rate are left out). -#}

{%- set factor = var('discount_day_factor', 2) -%}

with

cutoffs as (

    select cutoff_date, cutoff_ts from {{ ref('int_customer_cutoffs') }}

),

orders as (

    select order_id, customer_id, ordered_at, order_date, fx_rate_to_base
    from {{ ref('fct_orders') }}
    where is_completed and fx_rate_to_base is not null

),

lines as (

    select
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        items.category,
        {{ to_base('items.quantity * items.unit_price', 'orders.fx_rate_to_base') }} as gross_base,
        {{ to_base('coalesce(items.discount_amount, 0)', 'orders.fx_rate_to_base') }} as discount_base
    from {{ ref('int_order_items_enriched') }} as items
    inner join orders on items.order_id = orders.order_id

),

customer_category as (

    select
        cutoffs.cutoff_date,
        lines.customer_id,
        lines.category,
        sum(lines.gross_base) as gross_base,
        sum(lines.discount_base) as discount_base
    from lines
    inner join cutoffs on lines.ordered_at < cutoffs.cutoff_ts
    group by cutoffs.cutoff_date, lines.customer_id, lines.category

),

category_norm as (

    select
        cutoff_date,
        category,
        {{ decimal_ratio('sum(discount_base)', 'nullif(sum(gross_base), 0)') }} as norm_share
    from customer_category
    group by cutoff_date, category

),

customer_share as (

    select
        cc.cutoff_date,
        cc.customer_id,
        sum(cc.gross_base) as gross_base,
        sum(cc.discount_base) as discount_base,
        sum(cc.gross_base * coalesce(norm.norm_share, 0)) as expected_discount_base
    from customer_category as cc
    left join category_norm as norm
        on cc.cutoff_date = norm.cutoff_date and cc.category = norm.category
    group by cc.cutoff_date, cc.customer_id

),

daily as (

    select
        order_date,
        {{ decimal_ratio('sum(discount_base)', 'nullif(sum(gross_base), 0)') }} as day_share
    from lines
    group by order_date

),

days_by_cutoff as (

    select cutoffs.cutoff_date, daily.order_date, daily.day_share
    from daily
    inner join cutoffs
        on daily.order_date <= cutoffs.cutoff_date
        and daily.order_date > {{ days_before('cutoffs.cutoff_date', 365) }}

),

medians as (

    select cutoff_date, {{ median("day_share") }} as median_share
    from days_by_cutoff
    group by cutoff_date

),

periods as (

    select
        days.cutoff_date,
        days.order_date,
        days.day_share > 0 and days.day_share >= {{ factor }} * medians.median_share as is_discount_day
    from days_by_cutoff as days
    inner join medians on days.cutoff_date = medians.cutoff_date

),

period_days as (

    select
        cutoff_date,
        sum(case when is_discount_day then 1 else 0 end) as discount_days,
        sum(case when is_discount_day then 0 else 1 end) as other_days
    from periods
    group by cutoff_date

),

customer_days as (

    select customer_id, order_date, count(*) as orders
    from orders
    group by customer_id, order_date

),

customer_periods as (

    select
        periods.cutoff_date,
        customer_days.customer_id,
        sum(case when periods.is_discount_day then customer_days.orders else 0 end)
            as orders_discount_days,
        sum(case when periods.is_discount_day then 0 else customer_days.orders end)
            as orders_other_days
    from customer_days
    inner join periods on customer_days.order_date = periods.order_date
    group by periods.cutoff_date, customer_days.customer_id

),

joined as (

    select
        universe.customer_id,
        universe.cutoff_date,
        share.gross_base,
        share.discount_base,
        share.expected_discount_base,
        period_days.discount_days,
        period_days.other_days,
        coalesce(customer_periods.orders_discount_days, 0) as orders_discount_days,
        coalesce(customer_periods.orders_other_days, 0) as orders_other_days
    from {{ ref('int_customer_universe') }} as universe
    left join customer_share as share
        on universe.customer_id = share.customer_id and universe.cutoff_date = share.cutoff_date
    left join customer_periods
        on universe.customer_id = customer_periods.customer_id
        and universe.cutoff_date = customer_periods.cutoff_date
    left join period_days on universe.cutoff_date = period_days.cutoff_date

)

select
    customer_id,
    cutoff_date,
    {{ to_money('gross_base') }} as gross_spend_base,
    {{ to_money('discount_base') }} as discount_spend_base,
    cast({{ decimal_ratio('discount_base', 'nullif(gross_base, 0)') }} as {{ type_double() }}) as discount_share_of_spend,
    cast({{ decimal_ratio('expected_discount_base', 'nullif(gross_base, 0)') }} as {{ type_double() }}) as category_norm_share,
    cast({{ decimal_ratio('discount_base', 'nullif(expected_discount_base, 0)') }} as {{ type_double() }}) as discount_share_index,
    cast(coalesce(discount_days, 0) as {{ dbt.type_int() }}) as discount_days_365d,
    cast(case when gross_base is not null then orders_discount_days end as {{ dbt.type_int() }})
        as orders_on_discount_days,
    cast(case when gross_base is not null then orders_other_days end as {{ dbt.type_int() }})
        as orders_on_other_days,
    cast(
        case
            when gross_base is not null and discount_days > 0 and other_days > 0
                and orders_other_days > 0
                then (cast(orders_discount_days as {{ type_double() }}) / discount_days)
                    / (cast(orders_other_days as {{ type_double() }}) / other_days)
        end as {{ type_double() }}
    ) as discount_purchase_rate_lift
from joined
