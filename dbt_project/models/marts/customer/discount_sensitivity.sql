{#- Discount sensitivity per customer as of the as-of date (int_customer_discounts at the
    as-of cutoff, known customers): descriptive, not causal. -#}

select
    discounts.customer_id,
    universe.as_of_date,
    discounts.gross_spend_base,
    discounts.discount_spend_base,
    discounts.discount_share_of_spend,
    discounts.category_norm_share,
    discounts.discount_share_index,
    discounts.discount_days_365d,
    discounts.orders_on_discount_days,
    discounts.orders_on_other_days,
    discounts.discount_purchase_rate_lift
from {{ ref('int_customer_discounts') }} as discounts
inner join {{ ref('int_customer_universe') }} as universe
    on discounts.customer_id = universe.customer_id
    and discounts.cutoff_date = universe.cutoff_date
where universe.cutoff_kind = 'as_of' and universe.is_known
