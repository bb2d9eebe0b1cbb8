{{ config(materialized='table') }}

{#- One row per feature cutoff of this run: the as-of cutoff (cutoff_date = the as-of date;
    customer_360 and the area marts) and the history cutoffs as_of - k * var('churn_horizon_days')
    for k = 1 .. var('history_cutoffs') (customer_360_history, churn_labels). Features for a
    cutoff only see rows with a timestamp < cutoff_ts (the start of the day after cutoff_date)
    and their windows end on cutoff_date. Send cutoffs (kind 'send'): the as_of_date of every
    successful export run (activation.audience_runs) whose outcome window
    (var('uplift_window_days'), 30) has passed by the as-of date and that is no other cutoff,
    so marts.uplift_training sees each member's features as of the day the run selected it. -#}

{%- set horizon = churn_horizon_days() -%}
{%- set history_cutoffs = var('history_cutoffs', 3) | int -%}
{%- set uplift_window = var('uplift_window_days', 30) | int -%}
{%- set runs_source = source('activation', 'audience_runs') -%}
{%- set has_runs = relations_exist([runs_source]) %}

with

base as (

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

),

sends as (

    {%- if has_runs %}
    select distinct
        as_of.as_of_date,
        cast(runs.as_of_date as date) as cutoff_date,
        cast({{ dbt.dateadd('day', 1, 'cast(runs.as_of_date as date)') }} as {{ dbt.type_timestamp() }})
            as cutoff_ts,
        cast('send' as {{ dbt.type_string() }}) as cutoff_kind,
        cast(null as {{ dbt.type_int() }}) as horizons_back
    from {{ runs_source }} as runs
    cross join {{ ref('int_as_of') }} as as_of
    where runs.status = 'success'
        and runs.as_of_date is not null
        and cast({{ dbt.dateadd('day', uplift_window, 'cast(runs.as_of_date as date)') }} as date)
            <= as_of.as_of_date
    {%- else %}
    select * from base where 1 = 0
    {%- endif %}

)

select * from base
union all
select * from sends
where cutoff_date not in (select cutoff_date from base)
