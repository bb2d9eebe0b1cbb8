{{ config(materialized='table') }}

{#- Profile attributes of every customer at every cutoff: age and tenure at the cutoff, the
    signup only when before it. Null without a profile (customers seen only in orders). -#}

with

universe as (

    select * from {{ ref('int_customer_universe') }}

),

demographics as (

    select
        universe.customer_id,
        universe.cutoff_date,
        case
            when profiles.birth_date <= universe.cutoff_date
                then cast(floor(
                    {{ dbt.datediff('profiles.birth_date', 'universe.cutoff_date', 'day') }} / 365.25
                ) as {{ dbt.type_int() }})
        end as age,
        profiles.gender,
        profiles.country,
        profiles.city,
        profiles.acquisition_channel,
        profiles.marketing_consent,
        case when profiles.signup_at < universe.cutoff_ts then profiles.signup_at end as signup_at,
        case
            when universe.exists_from < universe.cutoff_ts
                then {{ dbt.datediff('cast(universe.exists_from as date)', 'universe.cutoff_date', 'day') }}
        end as tenure_days
    from universe
    left join {{ ref('int_customer_profiles') }} as profiles
        on universe.customer_id = profiles.customer_id

)

select
    -- keys
    demographics.customer_id,
    demographics.cutoff_date,

    -- demographics
    demographics.age,
    age_bands.age_band,
    demographics.gender,
    demographics.country,
    demographics.city,

    -- acquisition and consent
    demographics.acquisition_channel,
    demographics.marketing_consent,

    -- tenure
    demographics.signup_at,
    demographics.tenure_days

from demographics
left join {{ ref('age_bands') }} as age_bands
    on demographics.age between age_bands.min_age and age_bands.max_age
