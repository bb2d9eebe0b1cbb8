{#- Customer attributes without contact data (no email, phone or names): the source of
    dim_customers and of the customers snapshot. -#}

select
    customer_id,
    {{ keyed_hash('customer_id') }} as customer_key,
    birth_date,
    gender,
    country,
    city,
    acquisition_channel,
    marketing_consent,
    signup_at,
    updated_at,
    record_updated_at
from {{ ref('stg_raw__customers') }}
