{#- Keyed identifier hash: hex(HMAC-SHA256(key, sha256_hex(trim(expr)))), the same value as
    segmint.privacy (HashKey.identifier_hash in Python, keyed_sql in DuckDB SQL). The key
    reaches SQL only as its two HMAC pads in the one-row table _segmint.hash_key, written by
    segmint before dbt runs: never in the SQL text, vars or compiled files. A guessable
    customer_id cannot be reversed from the result by hashing candidates. -#}
{% macro keyed_hash(expr) -%}
    {{ return(adapter.dispatch('keyed_hash', 'segmint')(expr)) }}
{%- endmacro %}

{% macro duckdb__keyed_hash(expr) -%}
    {%- set key = source('segmint', 'hash_key') -%}
    sha256(
        (select opad from {{ key }})
        || unhex(sha256(
            (select ipad from {{ key }})
            || encode(sha256(trim(cast({{ expr }} as {{ dbt.type_string() }}))))
        ))
    )
{%- endmacro %}

{#- Spark SQL (dbt-spark): sha2 of binary, concat of binaries, encode to UTF-8 bytes. -#}
{% macro default__keyed_hash(expr) -%}
    {%- set key = source('segmint', 'hash_key') -%}
    sha2(
        concat(
            (select opad from {{ key }}),
            unhex(sha2(
                concat(
                    (select ipad from {{ key }}),
                    encode(sha2(trim(cast({{ expr }} as {{ dbt.type_string() }})), 256), 'UTF-8')
                ),
                256
            ))
        ),
        256
    )
{%- endmacro %}
