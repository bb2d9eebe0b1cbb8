{#- RFM quintile scores and named RFM classes as of the as-of date, for every customer with
    at least one completed order by then. -#}

with

{{ customer_feature_ctes(as_of_cutoffs()) }}

select
    rfm.customer_id,
    universe.as_of_date,
    order_features.recency_days,
    cast(order_features.frequency as {{ dbt.type_bigint() }}) as frequency,
    cast(order_features.monetary as {{ type_double() }}) as monetary,
    rfm.rfm_recency_score,
    rfm.rfm_frequency_score,
    rfm.rfm_monetary_score,
    rfm.rfm_score,
    rfm.rfm_class
from rfm
inner join universe
    on rfm.cutoff_date = universe.cutoff_date
    and rfm.customer_id = universe.customer_id
inner join order_features
    on rfm.cutoff_date = order_features.cutoff_date
    and rfm.customer_id = order_features.customer_id
