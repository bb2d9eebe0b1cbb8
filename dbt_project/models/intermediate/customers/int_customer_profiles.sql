{#- Customer attributes without contact data (no email, phone or names): the source of
    int_customer_demographics and of the customers snapshot. customer_key comes from
    int_customers_unioned, the one model that computes it. -#}

select
    profiles.customer_id,
    customers.customer_key,
    profiles.birth_date,
    profiles.gender,
    profiles.country,
    profiles.city,
    profiles.acquisition_channel,
    profiles.marketing_consent,
    profiles.signup_at,
    profiles.updated_at,
    profiles.record_updated_at
from {{ ref('stg_raw__customers') }} as profiles
left join {{ ref('int_customers_unioned') }} as customers
    on profiles.customer_id = customers.customer_id
