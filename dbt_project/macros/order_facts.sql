{#- The CTEs fct_orders and fct_order_items share: the valid orders with their rate to the
    base currency (int_orders_in_base), the enriched order lines and `<scoped_as>` = the rows of `scoped` (orders or order_lines) to (re)write.
    Full refresh: every row. Incremental: the rows of every order whose header, lines or
    products were loaded within var('lookback_days') of the latest load (see
    incremental_load_bound); both facts delete+insert on order_id, so an order is always
    rewritten whole.

    Usage:  with {{ order_fact_ctes('orders', 'scoped_orders') }}, ... select ... from scoped_orders -#}
{% macro order_fact_ctes(scoped, scoped_as) -%}
{#- the relations only the incremental branch reads, referenced here so dbt parses the deps -#}
{%- set incremental_inputs = [ref('stg_raw__orders'), ref('stg_raw__fx_rates')] %}

orders as (

    select * from {{ ref('int_orders_in_base') }}

),

order_lines as (

    select * from {{ ref('int_order_items_enriched') }}

),

{%- if is_incremental() %}

changed_orders as (

    select order_id from orders where _loaded_at > {{ incremental_load_bound(ref('stg_raw__orders')) }}
    union
    -- a rate loaded late (or corrected) converts the orders it now applies to
    select order_id from orders where fx_loaded_at > {{ incremental_load_bound(ref('stg_raw__fx_rates')) }}
    union
    select order_id from order_lines where _loaded_at > {{ incremental_load_bound(ref('int_order_items_enriched')) }}

),
{%- endif %}

{{ scoped_as }} as (

    select {{ scoped }}.*
    from {{ scoped }}
    {%- if is_incremental() %}
    inner join changed_orders on {{ scoped }}.order_id = changed_orders.order_id
    {%- endif %}

)

{%- endmacro %}
