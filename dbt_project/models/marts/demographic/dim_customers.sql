{#- One row per customer (raw customers plus customers seen only in orders), whether or not
    known by the as-of date. No contact data: analysts join on customer_id or the pseudonymous
    customer_key. Age and tenure are as of the as-of date (int_customer_demographics). -#}

select
    -- ids
    universe.customer_id,
    universe.customer_key,

    -- demographics
    demographics.age,
    demographics.age_band,
    demographics.gender,
    demographics.country,
    demographics.city,

    -- acquisition and consent
    demographics.acquisition_channel,
    demographics.marketing_consent,
    universe.has_profile,

    -- timestamps
    customers.signup_at,
    customers.first_order_at,
    demographics.tenure_days,
    universe.as_of_date

from {{ ref('int_customer_universe') }} as universe
inner join {{ ref('int_customers_unioned') }} as customers
    on universe.customer_id = customers.customer_id
left join {{ ref('int_customer_demographics') }} as demographics
    on universe.customer_id = demographics.customer_id
    and universe.cutoff_date = demographics.cutoff_date
where universe.cutoff_kind = 'as_of'
