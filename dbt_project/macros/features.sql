{#- Helpers of the customer feature models (models/intermediate/customers/int_customer_*). -#}

{#- Date `days` days before a date expression, as a date. -#}
{% macro days_before(date_expr, days) -%}
    cast({{ dbt.dateadd('day', -1 * days, date_expr) }} as date)
{%- endmacro %}

{#- Timestamp `days` days before a timestamp expression. -#}
{% macro ts_days_before(ts_expr, days) -%}
    {{ dbt.dateadd('day', -1 * days, ts_expr) }}
{%- endmacro %}

{#- {slug: [category, ...]} of every product / order-line category, read at execution time
    (int_customer_categories pivots one cat_share_<slug> column per slug). -#}
{% macro category_slug_map() -%}
    {%- set products = ref('stg_raw__products') -%}
    {%- set order_items = ref('fct_order_items') -%}
    {%- set mapping = {} -%}
    {#- In a unit test refs are fixture CTEs (__dbt__cte__*), not tables: no categories. -#}
    {%- if execute and not (order_items | string).startswith('__dbt__cte__') -%}
        {%- set query -%}
            select distinct category from {{ products }} where category is not null
            union
            select distinct category from {{ order_items }} where category is not null
        {%- endset -%}
        {%- set categories = run_query(query).columns[0].values() | sort -%}
        {%- for category in categories -%}
            {%- set slug = slugify(category) -%}
            {%- if slug not in mapping -%}
                {%- do mapping.update({slug: []}) -%}
            {%- endif -%}
            {%- do mapping[slug].append(category) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(mapping) -}}
{%- endmacro %}

{#- Column names of a built relation in table order, minus `except` (empty while parsing).
    For marts that pass on the columns of a model built just before them, such as the dynamic
    cat_share_<slug> columns, so those are pivoted once, in int_customer_categories. -#}
{% macro relation_columns(relation, except=[]) -%}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name not in except -%}
            {%- do names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not names -%}
        {{- exceptions.raise_compiler_error("relation_columns: " ~ relation ~ " has no columns (not built?)") -}}
    {%- endif -%}
    {{- return(names) -}}
{%- endmacro %}

{#- var('churn_horizon_days') as a positive int: the spacing of the history cutoffs and the
    churn label window (the settings pass it; one value for both). -#}
{% macro churn_horizon_days() -%}
    {%- set horizon = var('churn_horizon_days', 90) | int -%}
    {%- if horizon < 1 -%}
        {{- exceptions.raise_compiler_error("var churn_horizon_days must be a positive number of days, got " ~ var('churn_horizon_days')) -}}
    {%- endif -%}
    {{- return(horizon) -}}
{%- endmacro %}
