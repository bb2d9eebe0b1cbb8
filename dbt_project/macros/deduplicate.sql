{#-
    One row per key of a raw relation: the latest by `order_by` (e.g. latest _loaded_at).
    Duplicates are rare, so only rows whose key occurs more than once go through the window;
    all others stream straight through (ranking every row of a large table costs seconds).
    The keys occurring more than once are computed once (a materialized CTE where the adapter
    has one) and used by both branches; the relation itself is scanned directly.
    `key` is a SQL expression over the relation's columns; rows with a null key are dropped.

    `where` (optional) restricts the rows considered, e.g. to recent loads in an incremental
    model. Only use it with a condition that every better version of a row also meets (such
    as `_loaded_at > <bound>` when `order_by` starts with `_loaded_at desc`): the winner
    among the restricted rows is then the winner among all rows.
-#}
{% macro deduplicate(relation, key, order_by, columns, where=none) -%}
    {%- set column_list = columns | join(', ') -%}
    {%- set condition = '(' ~ where ~ ') and ' if where else '' -%}
    with duplicate_keys as {{ materialized_cte() }} (
        select {{ key }} as duplicate_key
        from {{ relation }}
        where {{ condition }}{{ key }} is not null
        group by {{ key }}
        having count(*) > 1
    )

    select {{ column_list }}
    from {{ relation }}
    where {{ condition }}{{ key }} is not null
        and {{ key }} not in (select duplicate_key from duplicate_keys)

    union all

    select {{ column_list }}
    from (
        select
            {{ column_list }},
            row_number() over (partition by {{ key }} order by {{ order_by }}) as dedupe_rank
        from {{ relation }}
        where {{ condition }}{{ key }} in (select duplicate_key from duplicate_keys)
    ) as ranked
    where dedupe_rank = 1
{%- endmacro %}

{#- `materialized` hint for a CTE that is read twice (DuckDB and Postgres would otherwise
    inline it and aggregate the large relation twice); empty where unsupported. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'segmint')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}

{% macro postgres__materialized_cte() -%}
    materialized
{%- endmacro %}

{#- The contract columns of raw.<table> plus the lineage columns, as a list. -#}
{% macro raw_columns(table) -%}
    {%- set contract = {
        'customers': ['customer_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date',
            'gender', 'country', 'city', 'postal_code', 'signup_at', 'acquisition_channel',
            'marketing_consent', 'updated_at'],
        'products': ['product_id', 'name', 'category', 'brand', 'unit_price', 'unit_cost'],
        'orders': ['order_id', 'customer_id', 'ordered_at', 'status', 'channel', 'store_region',
            'total_amount', 'discount_amount', 'currency'],
        'order_items': ['order_id', 'product_id', 'quantity', 'unit_price', 'discount_amount'],
        'events': ['event_id', 'occurred_at', 'event_type', 'customer_id', 'anonymous_id',
            'session_id', 'product_id', 'device', 'channel', 'properties'],
        'fx_rates': [adapter.quote('date'), 'currency', 'rate_to_base'],
    } -%}
    {{- return(contract[table] + ['_source_file', '_source_line', '_loaded_at']) -}}
{%- endmacro %}
