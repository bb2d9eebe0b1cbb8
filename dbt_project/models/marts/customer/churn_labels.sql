{#- The churn label of every customer_360_history row whose label window is over: churned = 1
    when the customer has no completed order with order_date in (cutoff_date, cutoff_date +
    var('churn_horizon_days')], else 0. A cutoff is labelled only when that window ends by the
    as-of date of customer_360 (cutoff_date + horizon <= as_of_date), so a label never looks
    past the data. -#}

{%- set horizon = churn_horizon_days() -%}

select
    history.customer_id,
    history.cutoff_date,
    case when count(orders.customer_id) = 0 then 1 else 0 end as churned
from {{ ref('customer_360_history') }} as history
left join {{ ref('fct_orders') }} as orders
    on history.customer_id = orders.customer_id
    and orders.is_completed
    and orders.order_date > history.cutoff_date
    and orders.order_date <= {{ dbt.dateadd('day', horizon, 'history.cutoff_date') }}
where {{ dbt.dateadd('day', horizon, 'history.cutoff_date') }}
    <= (select max(as_of_date) from {{ ref('customer_360') }})
group by history.customer_id, history.cutoff_date
