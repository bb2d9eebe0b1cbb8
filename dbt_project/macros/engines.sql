{#- Constructs whose SQL differs between engines (the conformance list: docs/engines.md).
    Each is dispatched per adapter; models call the macro, never an engine's SQL. -#}

{#- The materialization of the facts and staging models that are incremental by design
    (delete+insert on their unique_key). DuckDB: incremental. Spark on Parquet (the format
    available without Delta/Iceberg) has neither delete nor merge, and `insert overwrite`
    cannot read the table it writes, so the model is rebuilt whole ('table'): the same rows
    as the incremental run, at the cost of a full rebuild. -#}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization', 'segmint')()) }}
{%- endmacro %}

{% macro default__incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- Post-hook: delete the tombstone rows `condition` marks (rows an incremental run wrote to
    replace rows that no longer exist). DuckDB: delete in the model's transaction. Spark:
    the model is rebuilt whole (incremental_materialization), which writes no tombstone, so
    there is nothing to delete; the hook asserts that instead (Parquet tables cannot delete
    rows), failing the run if one was ever written. -#}
{% macro delete_tombstones(condition) -%}
    {{ return(adapter.dispatch('delete_tombstones', 'segmint')(condition)) }}
{%- endmacro %}

{% macro default__delete_tombstones(condition) -%}
    delete from {{ this }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_tombstones(condition) -%}
    select assert_true(count(*) = 0, 'tombstone rows in {{ this }}') from {{ this }} where {{ condition }}
{%- endmacro %}

{#- Seeds on Spark: dbt-spark's loader binds values into the SQL text unescaped, so a value
    with an apostrophe ("côte d'ivoire") breaks the insert and an empty cell becomes the
    string 'None'. This writes every value as an escaped string literal (null for an empty
    cell) cast to the seed's column type; DuckDB loads seeds with COPY and is unaffected. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {{- ',' if not loop.last -}}
                {%- endfor -%}){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A double rounded to `digits` decimals the way DuckDB does it: round(x * 10^digits) /
    10^digits, half away from zero on the binary value. Spark's round(double, d) rounds the
    shortest decimal text of the double instead (2.675 -> 2.68 where DuckDB gives 2.67), so
    averages rounded to cents differed by a cent on ties. -#}
{% macro round_double(expr, digits) -%}
    {{ return(adapter.dispatch('round_double', 'segmint')(expr, digits)) }}
{%- endmacro %}

{% macro default__round_double(expr, digits) -%}
    round({{ expr }}, {{ digits }})
{%- endmacro %}

{% macro spark__round_double(expr, digits) -%}
    (round(({{ expr }}) * {{ 10 ** digits }}D, 0) / {{ 10 ** digits }}D)
{%- endmacro %}
