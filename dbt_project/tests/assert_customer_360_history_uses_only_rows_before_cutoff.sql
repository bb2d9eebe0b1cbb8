-- No leakage in customer_360_history: order features of every cutoff match a recount of
-- completed orders placed before the end of the cutoff day, and nothing is dated after it.
with

recount as (

    select
        history.customer_id,
        history.cutoff_date,
        count(orders.order_id) as frequency,
        max(orders.ordered_at) as last_order_at
    from {{ ref('customer_360_history') }} as history
    left join {{ ref('fct_orders') }} as orders
        on history.customer_id = orders.customer_id
        and orders.is_completed
        and orders.order_date <= history.cutoff_date
    group by history.customer_id, history.cutoff_date

)

select history.customer_id, history.cutoff_date
from {{ ref('customer_360_history') }} as history
inner join recount
    on history.customer_id = recount.customer_id
    and history.cutoff_date = recount.cutoff_date
where history.frequency <> recount.frequency
    or coalesce(history.last_order_at, '1900-01-01') <> coalesce(recount.last_order_at, '1900-01-01')
    or cast(history.last_order_at as date) > history.cutoff_date
    or cast(history.signup_at as date) > history.cutoff_date
    or history.cutoff_date >= history.as_of_date
