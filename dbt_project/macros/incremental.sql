{#- Lower bound on the load time for an incremental run: rows loaded after
    max(<loaded_at column> in this model) - var('lookback_days') are (re)processed. -#}
{% macro incremental_load_bound(column='_loaded_at') -%}
    (
        select {{ dbt.dateadd('day', -1 * (var('lookback_days', 3) | int), 'max(' ~ column ~ ')') }}
        from {{ this }}
    )
{%- endmacro %}
