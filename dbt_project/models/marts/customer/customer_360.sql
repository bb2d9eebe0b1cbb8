{#- One row per customer record known by the as-of date, with every feature (the table the
    models read): the as-of cutoff of int_customer_features. The features are computed in
    models/intermediate/customers/int_customer_*. customer_id stays the shop's customer
    record; person_id (marts.identity_map) groups the records of one person, and the
    person's primary record (is_primary_record) also counts the sessions of the devices
    stitched to the person (pre-login browsing). -#}

{%- set ref_features = ref('int_customer_features') %}

select
    features.{{ relation_columns(ref_features, except=['cutoff_date', 'cutoff_kind', 'is_known']) | join(',\n    features.') }},
    persons.person_id,
    coalesce(persons.is_primary_record, true) as is_primary_record
from {{ ref_features }} as features
left join {{ ref('identity_customer_persons') }} as persons
    on persons.customer_id = features.customer_id
where features.cutoff_kind = 'as_of' and features.is_known
