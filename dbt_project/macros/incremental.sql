{#- Lower bound on the load time for an incremental run: rows of `relation` loaded after it
    are (re)processed.

    Every row loaded after the latest load already in this model (max(_loaded_at) of {{ this }})
    is new, so that bound alone is complete. The lookback adds a safety margin relative to the
    newest load in `relation` (rows loaded within var('lookback_days') of it are redone too),
    but it never reaches further back than the latest load already here: after a backfill
    (years of history loaded at once) the next daily run still only reads the new day, while a
    run after a week without runs reads the whole week. The bound is
        least(max(_loaded_at) in this, max(_loaded_at) in relation - lookback_days)
    and an empty model (e.g. a source that was empty until now) takes every row.
    Without `relation` the bound is max(_loaded_at) in this - lookback_days. -#}
{% macro incremental_load_bound(relation=none, column='_loaded_at') -%}
    {%- set lookback = -1 * (var('lookback_days', 3) | int) -%}
    (
        select
            case
                when this_load.latest_at is null then cast('1900-01-01' as {{ dbt.type_timestamp() }})
                {%- if relation is not none %}
                when relation_load.latest_at is not null
                    then least(
                        this_load.latest_at,
                        {{ dbt.dateadd('day', lookback, 'relation_load.latest_at') }}
                    )
                {%- endif %}
                else {{ dbt.dateadd('day', lookback, 'this_load.latest_at') }}
            end
        from (select max({{ column }}) as latest_at from {{ this }}) as this_load
        {%- if relation is not none %}
        cross join (select max({{ column }}) as latest_at from {{ relation }}) as relation_load
        {%- endif %}
    )
{%- endmacro %}

{#- Whether an erasure (segmint forget, raw.erasure_ledger) may have deleted rows since this
    model's latest load: one recorded after max(_loaded_at) in {{ this }} (erasures and loads
    both stamp UTC, and an erasure never runs during a run), or a ledger with rows but no
    erased_at. False while parsing, on a first build and without a ledger. -#}
{% macro erased_since_latest_load() -%}
    {%- set ledger = source('erasure', 'erasure_ledger') -%}
    {%- if not execute or not is_incremental() or not relations_exist([ledger]) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(ledger) | map(attribute='name') | map('lower') | list -%}
    {%- set recorded = 'erased_at > (select max(_loaded_at) from ' ~ this ~ ')' if 'erased_at' in names else 'true' -%}
    {%- set found = run_query('select count(*) from ' ~ ledger ~ ' where ' ~ recorded) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
