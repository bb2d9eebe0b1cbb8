{#-
    One row per key of a raw relation: the latest by `order_by` (e.g. latest _loaded_at).
    Duplicates are rare, so only rows whose key occurs more than once go through the window;
    all others stream straight through (ranking every row of a large table costs seconds).
    The relation is scanned directly (not through a CTE) so nothing is materialized.
    `key` is a SQL expression over the relation's columns; rows with a null key are dropped.
-#}
{% macro deduplicate(relation, key, order_by, columns) -%}
    {%- set column_list = columns | join(', ') -%}
    select {{ column_list }}
    from {{ relation }}
    where {{ key }} is not null
        and {{ key }} not in (
            select {{ key }} from {{ relation }}
            where {{ key }} is not null
            group by {{ key }}
            having count(*) > 1
        )

    union all

    select {{ column_list }}
    from (
        select
            {{ column_list }},
            row_number() over (partition by {{ key }} order by {{ order_by }}) as dedupe_rank
        from {{ relation }}
        where {{ key }} in (
            select {{ key }} from {{ relation }}
            where {{ key }} is not null
            group by {{ key }}
            having count(*) > 1
        )
    ) as ranked
    where dedupe_rank = 1
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
    } -%}
    {{- return(contract[table] + ['_source_file', '_source_line', '_loaded_at']) -}}
{%- endmacro %}
