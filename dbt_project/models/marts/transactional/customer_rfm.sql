{#- RFM quintile scores and named RFM classes as of the as-of date, for every customer with
    at least one completed order by then (int_customer_rfm at the as-of cutoff). -#}

select
    rfm.customer_id,
    universe.as_of_date,
    orders.recency_days,
    orders.frequency,
    orders.monetary,
    rfm.rfm_recency_score,
    rfm.rfm_frequency_score,
    rfm.rfm_monetary_score,
    rfm.rfm_score,
    rfm.rfm_class
from {{ ref('int_customer_rfm') }} as rfm
inner join {{ ref('int_customer_universe') }} as universe
    on rfm.customer_id = universe.customer_id
    and rfm.cutoff_date = universe.cutoff_date
inner join {{ ref('int_customer_orders') }} as orders
    on rfm.customer_id = orders.customer_id
    and rfm.cutoff_date = orders.cutoff_date
where universe.cutoff_kind = 'as_of' and universe.is_known
