{#- Use a model's custom schema verbatim (raw / staging / intermediate / marts), not
    "<target schema>_<custom schema>", so analysts find marts.customer_360. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
