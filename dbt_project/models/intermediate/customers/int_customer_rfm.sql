{{ config(materialized='table') }}

{#- RFM quintile scores and the named RFM class per cutoff, for customers with at least one
    completed order before it (no row otherwise). Each score ranks the customer among those
    customers at the same cutoff (ties share a score). -#}

with

rfm_scored as (

    -- monetary is ranked in cents: equal spend must tie on every run, whatever order a
    -- parallel sum added the orders in (float noise would split the tie).
    select
        customer_id,
        cutoff_date,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by recency_days desc) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_recency_score,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by frequency) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_frequency_score,
        cast(1 + floor(5.0 * (rank() over (partition by cutoff_date order by round(monetary, 2)) - 1)
            / count(*) over (partition by cutoff_date)) as {{ dbt.type_int() }}) as rfm_monetary_score
    from {{ ref('int_customer_orders') }}
    where frequency > 0

)

select
    -- keys
    rfm_scored.customer_id,
    rfm_scored.cutoff_date,

    -- scores
    rfm_scored.rfm_recency_score,
    rfm_scored.rfm_frequency_score,
    rfm_scored.rfm_monetary_score,
    rfm_scored.rfm_recency_score + rfm_scored.rfm_frequency_score + rfm_scored.rfm_monetary_score
        as rfm_score,
    rfm_classes.rfm_class

from rfm_scored
left join {{ ref('rfm_classes') }} as rfm_classes
    on rfm_scored.rfm_recency_score = rfm_classes.recency_score
    and cast(floor((rfm_scored.rfm_frequency_score + rfm_scored.rfm_monetary_score + 1) / 2.0)
        as {{ dbt.type_int() }}) = rfm_classes.frequency_monetary_score
