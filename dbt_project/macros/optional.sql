{#- Whether every relation in the list exists in the warehouse (false while parsing): optional
    sources such as segmint's export state, which appears with the first export. -#}
{% macro relations_exist(relations) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for r in relations -%}
        {%- if adapter.get_relation(database=r.database, schema=r.schema, identifier=r.identifier) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}
