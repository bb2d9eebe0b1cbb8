{#- Small cross-database helpers that dbt-core does not ship. -#}

{#- Division that yields null instead of an error when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1 as a subquery with column n (portable, no generate_series). -#}
{% macro integers(digits=5) -%}
    (
        select
            {%- for i in range(digits) %}
            d{{ i }}.n * {{ 10 ** i }}{{ ' +' if not loop.last }}
            {%- endfor %} as n
        from
            {%- for i in range(digits) %}
            (
                select 0 as n union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d{{ i }}{{ ',' if not loop.last }}
            {%- endfor %}
    )
{%- endmacro %}

{#- Calendar days between two date expressions (inclusive) as rows with column date_day. -#}
{% macro days_between(start_date, end_date) -%}
    (
        select cast({{ dbt.dateadd('day', 'integers.n', 'bounds.start_date') }} as date) as date_day
        from
            (select cast({{ start_date }} as date) as start_date, cast({{ end_date }} as date) as end_date) as bounds
            inner join {{ integers(5) }} as integers
                on integers.n <= {{ dbt.datediff('bounds.start_date', 'bounds.end_date', 'day') }}
    )
{%- endmacro %}

{#- Lowercase slug of a category for column names: every non [a-z0-9] character becomes _. -#}
{% macro slugify(value) -%}
    {%- set slug = modules.re.sub('[^a-z0-9]', '_', (value | string).lower()) -%}
    {{- return(slug if slug else 'unknown') -}}
{%- endmacro %}

{#- Lower-cased, trimmed text; empty strings become null. -#}
{% macro clean_enum(expr) -%}
    nullif(lower(trim(cast({{ expr }} as {{ dbt.type_string() }}))), '')
{%- endmacro %}

{#- Trimmed text; empty strings become null. -#}
{% macro clean_text(expr) -%}
    nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- The value of `value` on the row with the smallest `order_by` (ties broken by `tiebreak`),
    ignoring rows where value is null. -#}
{% macro arg_min(value, order_by, tiebreak) -%}
    {{ return(adapter.dispatch('arg_min', 'segmint')(value, order_by, tiebreak)) }}
{%- endmacro %}

{% macro default__arg_min(value, order_by, tiebreak) -%}
    min_by({{ value }}, case when {{ value }} is not null then
        {{ dbt.concat([dbt.cast(order_by, dbt.type_string()), "'|'", tiebreak]) }} end)
{%- endmacro %}

{% macro duckdb__arg_min(value, order_by, tiebreak) -%}
    arg_min({{ value }}, case when {{ value }} is not null then row({{ order_by }}, {{ tiebreak }}) end)
{%- endmacro %}

{#- A 64-bit float (dbt.type_float() is a 4-byte FLOAT on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'segmint')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ dbt.type_float() }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{#- dbt.type_float() is a 4-byte FLOAT on Spark too. -#}
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Money: DECIMAL with cents (segmint.contract.MONEY), portable to every adapter. -#}
{% macro type_money() -%}
    decimal(18, 2)
{%- endmacro %}

{#- An exchange rate (segmint.contract.RATE). -#}
{% macro type_rate() -%}
    decimal(18, 10)
{%- endmacro %}

{#- An amount in money (cents): `expr` rounded half away from zero to 2 decimals, as DECIMAL. -#}
{% macro to_money(expr) -%}
    cast(round({{ expr }}, 2) as {{ type_money() }})
{%- endmacro %}

{#- An amount converted to the base currency at `rate` (null rate: null amount), in cents. -#}
{% macro to_base(amount, rate) -%}
    cast(round(cast({{ amount }} as decimal(38, 2)) * {{ rate }}, 2) as {{ type_money() }})
{%- endmacro %}

{#- The current time in UTC as a timestamp without time zone (how the warehouse stores times). -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'segmint')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    {{ dbt.current_timestamp_in_utc_backcompat() }}
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    timezone('UTC', now())
{%- endmacro %}

{#- The default casts with `::`, which Spark 3 does not parse. -#}
{% macro spark__utc_now() -%}
    to_utc_timestamp(current_timestamp(), current_timezone())
{%- endmacro %}

{#- A phone number reduced to its digits (and a leading +): separators never split a match.
    Null when fewer than 6 digits remain. -#}
{% macro normalized_phone(expr) -%}
    {%- set ns = namespace(digits="trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))") -%}
    {%- for sep in [' ', '-', '.', '(', ')', '/'] -%}
        {%- set ns.digits = "replace(" ~ ns.digits ~ ", '" ~ sep ~ "', '')" -%}
    {%- endfor -%}
    case when length({{ ns.digits }}) >= 6 then {{ ns.digits }} end
{%- endmacro %}
