{#- One row per customer known by the as-of date, with every feature (the table the models
    read): the as-of cutoff of int_customer_features. The features are computed in
    models/intermediate/customers/int_customer_*. -#}

{%- set ref_features = ref('int_customer_features') %}

select
    {{ relation_columns(ref_features, except=['cutoff_date', 'cutoff_kind', 'is_known']) | join(',\n    ') }}
from {{ ref_features }}
where cutoff_kind = 'as_of' and is_known
