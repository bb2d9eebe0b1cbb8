{#- Event classification shared by int_inactivity_sessions (which sessionizes) and
    int_events_sessionized (which attaches sessions to every event), so both agree on which
    events are sessionized by inactivity. Expressions over stg_raw__events columns. -#}

{#- Messaging events belong to no session. -#}
{% macro messaging_event_types() -%}
    ('email_send', 'email_open', 'email_click', 'email_unsubscribe')
{%- endmacro %}

{#- Whose activity is sessionized together: the customer, else the anonymous visitor, else the
    event alone. -#}
{% macro event_actor_key(customer_id='customer_id', anonymous_id='anonymous_id', event_id='event_id') -%}
    case
        when {{ customer_id }} is not null then {{ dbt.concat(["'customer:'", customer_id]) }}
        when {{ anonymous_id }} is not null then {{ dbt.concat(["'anonymous:'", anonymous_id]) }}
        else {{ dbt.concat(["'event:'", event_id]) }}
    end
{%- endmacro %}

{#- none (messaging), given (the source's session_id) or inactivity (sessionized by segmint). -#}
{% macro event_session_source(event_type='event_type', session_id='session_id') -%}
    case
        when {{ event_type }} in {{ messaging_event_types() }} then 'none'
        when {{ session_id }} is not null then 'given'
        else 'inactivity'
    end
{%- endmacro %}

{#- The key of an inactivity-based session: its actor and start (int_inactivity_sessions).
    fct_sessions recomputes it to find a stored single-event session an event left. -#}
{% macro inactivity_session_key(actor_key='actor_key', started_at='session_started_at') -%}
    {{ dbt.hash(dbt.concat([actor_key, "'|'", dbt.cast(started_at, dbt.type_string())])) }}
{%- endmacro %}
