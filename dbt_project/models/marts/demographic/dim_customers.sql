{#- One row per customer (raw customers plus customers seen only in orders). No contact data:
    analysts join on customer_id or the pseudonymous customer_key (sha256 of customer_id).
    Age and tenure are as of the as-of date. -#}

with

{{ customer_feature_ctes(as_of_cutoffs(), existing_only=false) }}

select
    -- ids
    universe.customer_id,
    universe.customer_key,

    -- demographics
    demographics_banded.age,
    demographics_banded.age_band,
    demographics_banded.gender,
    demographics_banded.country,
    demographics_banded.city,

    -- acquisition and consent
    demographics_banded.acquisition_channel,
    demographics_banded.marketing_consent,
    universe.has_profile,

    -- timestamps
    customers.signup_at,
    customers.first_order_at,
    demographics_banded.tenure_days,
    universe.as_of_date

from universe
inner join {{ ref('int_customers_unioned') }} as customers
    on universe.customer_id = customers.customer_id
left join demographics_banded
    on universe.cutoff_date = demographics_banded.cutoff_date
    and universe.customer_id = demographics_banded.customer_id
