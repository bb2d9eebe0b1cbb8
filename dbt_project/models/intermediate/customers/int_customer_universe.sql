{{ config(materialized='table') }}

{#- Every customer at every cutoff (int_customer_cutoffs x int_customers_unioned): the grain of
    every int_customer_* feature model, keyed (customer_id, cutoff_date). is_known says whether
    the customer exists by the cutoff (signed up or ordered before cutoff_ts; undated profiles
    always): customer_360 and customer_360_history keep only known customers, dim_customers
    keeps everyone. customer_key is taken from int_customers_unioned, the one model that
    computes it. -#}

select
    -- ids
    customers.customer_id,
    cutoffs.cutoff_date,
    customers.customer_key,

    -- cutoff
    cutoffs.as_of_date,
    cutoffs.cutoff_ts,
    cutoffs.cutoff_kind,

    -- existence
    customers.has_profile,
    customers.exists_from,
    (customers.exists_from is null or customers.exists_from < cutoffs.cutoff_ts) as is_known

from {{ ref('int_customer_cutoffs') }} as cutoffs
cross join {{ ref('int_customers_unioned') }} as customers
