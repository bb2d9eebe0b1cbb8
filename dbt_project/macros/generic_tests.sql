{#- Fails for every combination of `columns` that occurs more than once. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- A primary key: fails for every combination of `columns` that occurs more than once or
    has a null part (unique + not_null of a composite key in one query). -#}
{% test primary_key(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
    {%- for column in columns %}
        or {{ column }} is null
    {%- endfor %}
{% endtest %}
