{#- customer_360 as of several earlier cutoffs (as_of - k * churn_horizon_days, k = 1 ..
    history_cutoffs) for churn training: the history cutoffs of int_customer_features. Only
    rows before the end of each cutoff_date feed its features, and a customer appears for a
    cutoff only if known by then. person_id and is_primary_record as in customer_360 (the
    current identity map). -#}

{%- set ref_features = ref('int_customer_features') %}

select
    features.{{ relation_columns(ref_features, except=['cutoff_kind', 'is_known']) | join(',\n    features.') }},
    persons.person_id,
    coalesce(persons.is_primary_record, true) as is_primary_record
from {{ ref_features }} as features
left join {{ ref('identity_customer_persons') }} as persons
    on persons.customer_id = features.customer_id
where features.cutoff_kind = 'history' and features.is_known
