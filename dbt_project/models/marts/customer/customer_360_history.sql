{#- customer_360 as of several earlier cutoffs (as_of - k * churn_horizon_days, k = 1 ..
    history_cutoffs) for churn training: the history cutoffs of int_customer_features. Only
    rows before the end of each cutoff_date feed its features, and a customer appears for a
    cutoff only if known by then. -#}

{%- set ref_features = ref('int_customer_features') %}

select
    {{ relation_columns(ref_features, except=['cutoff_kind', 'is_known']) | join(',\n    ') }}
from {{ ref_features }}
where cutoff_kind = 'history' and is_known
