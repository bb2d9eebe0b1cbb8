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

{#- Seeds on Spark: dbt-spark's loader binds agate's values into the SQL text unescaped (an
    apostrophe in "côte d'ivoire" broke the insert, an empty cell became the string 'None'),
    and agate had already read the text "null" as NULL even in a string column
    (gender_aliases lists the spelling 'null'; its not_null test failed on Spark). This
    reads the seed's CSV file with Spark's own CSV reader instead, as DuckDB's COPY does:
    every cell as text (an empty cell null, "null" the text), cast to the seed's column
    types. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set view = this.identifier ~ '__seed_csv' -%}
    {%- set path = agate_table.original_abspath | replace("\\", "\\\\") | replace("'", "\\'") -%}
    {%- set read -%}
        create or replace temporary view `{{ view }}` using csv
        options (path '{{ path }}', header 'true', multiLine 'true', escape '"', inferSchema 'false')
    {%- endset -%}
    {%- do adapter.add_query(read, abridge_sql_log=True) -%}
    {%- set sql -%}
        insert into {{ this.render() }}
        select
        {%- for col_name in agate_table.column_names %}
            cast(`{{ col_name }}` as {{ column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) }}){{ ',' if not loop.last }}
        {%- endfor %}
        from `{{ view }}`
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {{ return(sql) }}
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

{#- The previous run's rows of a model that carries state from run to run (identity_map keeps
    each person's id; identity_merges keeps its history), or none on a first build.
    DuckDB: the model is incremental and reads {{ this }} before delete+insert replaces rows.
    Spark on Parquet: the model is rebuilt whole ('table', incremental_materialization), which
    drops {{ this }} first, so the pre-hook keep_previous_state() copies it to
    <model>__previous and the model reads that copy (kept as is if a crash left no {{ this }},
    so an interrupted build loses no state). -#}
{% macro carried_state() -%}
    {{ return(adapter.dispatch('carried_state', 'segmint')()) }}
{%- endmacro %}

{% macro default__carried_state() -%}
    {{ return(this if is_incremental() else none) }}
{%- endmacro %}

{% macro spark__carried_state() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set previous = this.incorporate(path={"identifier": this.identifier ~ "__previous"}) -%}
    {%- set current = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set kept = adapter.get_relation(database=previous.database, schema=previous.schema, identifier=previous.identifier) -%}
    {{ return(previous if (current is not none or kept is not none) else none) }}
{%- endmacro %}

{#- Pre-hook of the models that read carried_state(): nothing on DuckDB; on Spark a copy of
    the current table as <model>__previous (replaced each run). -#}
{% macro keep_previous_state() -%}
    {{ return(adapter.dispatch('keep_previous_state', 'segmint')()) }}
{%- endmacro %}

{% macro default__keep_previous_state() -%}
{%- endmacro %}

{% macro spark__keep_previous_state() -%}
    {%- set current = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if current is not none -%}
        {%- set previous = this.incorporate(path={"identifier": this.identifier ~ "__previous"}) -%}
        {%- do run_query("drop table if exists " ~ previous) -%}
        create table {{ previous }} using parquet as select * from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- A DECIMAL divided by a DECIMAL, as a double. DuckDB divides decimals as doubles; Spark
    keeps a DECIMAL whose scale is capped at 6 digits (7.232048442965588 became 7.232046), so
    shares of money differed from the 7th digit on. -#}
{% macro decimal_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('decimal_ratio', 'segmint')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__decimal_ratio(numerator, denominator) -%}
    ({{ numerator }}) / ({{ denominator }})
{%- endmacro %}

{% macro spark__decimal_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as double) / cast({{ denominator }} as double))
{%- endmacro %}

{#- The mean of a DECIMAL column in an aggregate, as a double. DuckDB's avg of a decimal is a
    double (the exact sum divided in floating point); Spark's is an exact DECIMAL, which then
    rounds half-cents up where the double rounds to its nearest binary value (a mean of
    2.675 became 2.68 on Spark, 2.67 on DuckDB). Spark: the exact sum as a double, divided by
    the count of non-null values. -#}
{% macro mean_of_decimal(expr) -%}
    {{ return(adapter.dispatch('mean_of_decimal', 'segmint')(expr)) }}
{%- endmacro %}

{% macro default__mean_of_decimal(expr) -%}
    avg({{ expr }})
{%- endmacro %}

{% macro spark__mean_of_decimal(expr) -%}
    (cast(sum({{ expr }}) as double) / count({{ expr }}))
{%- endmacro %}

{#- The mean of a money (DECIMAL with cents) column in an aggregate, as money, rounded half up
    to the cent in integer cents: the same on every engine. A mean in floating point rounds a
    half cent by its last binary digit, which DuckDB's avg and a double division on Spark
    set differently (a mean of 45409.185 became 45409.19 on DuckDB, 45409.18 on Spark). Null
    without a value. -#}
{% macro mean_money(expr) -%}
    {%- set cents = 'cast((' ~ expr ~ ') * 100 as ' ~ dbt.type_bigint() ~ ')' -%}
    {{ to_money('floor((2 * sum(' ~ cents ~ ') + count(' ~ cents ~ ')) / nullif(2.0 * count(' ~ cents ~ '), 0)) / 100') }}
{%- endmacro %}

{#- A double as money (DECIMAL with cents), rounded as DuckDB rounds it: to_money on Spark
    would round the double's decimal text (round_double above), so a mean of 45.675 became
    45.68 on Spark and 45.67 on DuckDB. For expressions that are doubles (a mean, a model's
    output); to_money stays right for DECIMALs, which both engines round exactly. -#}
{% macro money_of_double(expr) -%}
    {{ return(adapter.dispatch('money_of_double', 'segmint')(expr)) }}
{%- endmacro %}

{% macro default__money_of_double(expr) -%}
    {{ to_money(expr) }}
{%- endmacro %}

{% macro spark__money_of_double(expr) -%}
    {{ to_money(spark__round_double(expr, 2)) }}
{%- endmacro %}
