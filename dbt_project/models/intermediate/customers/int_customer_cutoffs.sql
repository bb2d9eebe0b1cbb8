{{ config(materialized='table') }}

{#- One row per feature cutoff of this run: the as-of cutoff (cutoff_date = the as-of date;
    customer_360 and the area marts) and the history cutoffs as_of - k * var('churn_horizon_days')
    for k = 1 .. var('history_cutoffs') (customer_360_history, churn_labels). Features for a
    cutoff only see rows with a timestamp < cutoff_ts (the start of the day after cutoff_date)
    and their windows end on cutoff_date. -#}

{%- set horizon = churn_horizon_days() -%}
{%- set history_cutoffs = var('history_cutoffs', 3) | int -%}

select
    as_of_date,
    as_of_date as cutoff_date,
    cutoff_ts,
    cast('as_of' as {{ dbt.type_string() }}) as cutoff_kind,
    0 as horizons_back
from {{ ref('int_as_of') }}
{%- for k in range(1, history_cutoffs + 1) %}

union all

select
    as_of_date,
    {{ days_before('as_of_date', k * horizon) }} as cutoff_date,
    cast({{ dbt.dateadd('day', 1, days_before('as_of_date', k * horizon)) }} as {{ dbt.type_timestamp() }})
        as cutoff_ts,
    'history' as cutoff_kind,
    {{ k }} as horizons_back
from {{ ref('int_as_of') }}
{%- endfor %}
