{#- Every valid order (customer and time known) with its amounts in the base currency
    (var('base_currency')) beside the original ones. An order without a currency is in the
    base currency; an order in the base currency converts at 1; any other converts at the
    latest usable rate (> 0) of raw.fx_rates dated on or before its order date. Without such
    a rate the base amounts are null (never summed as if in the base currency), and the
    blocking check on marts.fct_orders names the currencies and counts the orders. -#}

{%- set base_currency = var('base_currency') | upper %}

with

orders as (

    select
        order_id,
        customer_id,
        status,
        channel,
        store_region,
        coalesce(currency, '{{ base_currency }}') as currency,
        total_amount,
        discount_amount,
        ordered_at,
        _source_file,
        _source_line,
        _loaded_at
    from {{ ref('stg_raw__orders') }}
    where customer_id is not null and ordered_at is not null

),

rates as (

    select
        currency,
        rate_date,
        rate_to_base,
        _loaded_at,
        lead(rate_date) over (partition by currency order by rate_date) as next_rate_date
    from {{ ref('stg_raw__fx_rates') }}
    where rate_to_base > 0 and currency <> '{{ base_currency }}'

),

converted as (

    select
        orders.*,
        case
            when orders.currency = '{{ base_currency }}' then cast(1 as {{ type_rate() }})
            else rates.rate_to_base
        end as fx_rate_to_base,
        rates.rate_date as fx_rate_date,
        rates._loaded_at as fx_loaded_at
    from orders
    left join rates
        on orders.currency = rates.currency
        and orders.currency <> '{{ base_currency }}'
        and cast(orders.ordered_at as date) >= rates.rate_date
        and (rates.next_rate_date is null or cast(orders.ordered_at as date) < rates.next_rate_date)

)

select
    *,
    {{ to_base('total_amount', 'fx_rate_to_base') }} as total_amount_base,
    {{ to_base('discount_amount', 'fx_rate_to_base') }} as discount_amount_base
from converted
