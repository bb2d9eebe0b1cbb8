{#- Enum normalisation used by staging. -#}

{% macro normalize_gender(expr) -%}
    case
        when {{ clean_enum(expr) }} is null then 'unknown'
        when {{ clean_enum(expr) }} in ('f', 'female', 'w', 'woman', 'women', 'girl', 'fem', 'weiblich', 'femme', 'mujer')
            then 'female'
        when {{ clean_enum(expr) }} in ('m', 'male', 'man', 'men', 'boy', 'mann', 'männlich', 'homme', 'hombre')
            then 'male'
        when {{ clean_enum(expr) }} in ('u', 'unknown', 'n/a', 'na', 'none', 'null', '?', 'prefer not to say', 'unspecified')
            then 'unknown'
        else 'other'
    end
{%- endmacro %}

{#- Upper-case ISO 3166-1 alpha-2 where the value is a 2-letter code or a common name/alpha-3. -#}
{% macro normalize_country(expr) -%}
    {%- set names = {
        'united states': 'US', 'united states of america': 'US', 'usa': 'US', 'america': 'US',
        'united kingdom': 'GB', 'uk': 'GB', 'great britain': 'GB', 'england': 'GB', 'gbr': 'GB',
        'germany': 'DE', 'deutschland': 'DE', 'deu': 'DE',
        'france': 'FR', 'fra': 'FR', 'spain': 'ES', 'espana': 'ES', 'españa': 'ES', 'esp': 'ES',
        'italy': 'IT', 'italia': 'IT', 'ita': 'IT', 'netherlands': 'NL', 'the netherlands': 'NL',
        'holland': 'NL', 'nld': 'NL', 'belgium': 'BE', 'bel': 'BE', 'austria': 'AT', 'aut': 'AT',
        'switzerland': 'CH', 'che': 'CH', 'poland': 'PL', 'pol': 'PL', 'sweden': 'SE', 'swe': 'SE',
        'norway': 'NO', 'nor': 'NO', 'denmark': 'DK', 'dnk': 'DK', 'finland': 'FI', 'fin': 'FI',
        'ireland': 'IE', 'irl': 'IE', 'portugal': 'PT', 'prt': 'PT', 'canada': 'CA', 'can': 'CA',
        'mexico': 'MX', 'mex': 'MX', 'brazil': 'BR', 'brasil': 'BR', 'bra': 'BR',
        'australia': 'AU', 'aus': 'AU', 'new zealand': 'NZ', 'nzl': 'NZ', 'japan': 'JP', 'jpn': 'JP',
        'china': 'CN', 'chn': 'CN', 'india': 'IN', 'ind': 'IN', 'south africa': 'ZA', 'zaf': 'ZA',
        'czech republic': 'CZ', 'czechia': 'CZ', 'cze': 'CZ', 'greece': 'GR', 'grc': 'GR',
        'hungary': 'HU', 'hun': 'HU', 'romania': 'RO', 'rou': 'RO', 'turkey': 'TR', 'tur': 'TR'
    } -%}
    case
        when {{ clean_enum(expr) }} is null then null
        {%- for name, code in names.items() %}
        when {{ clean_enum(expr) }} = '{{ name }}' then '{{ code }}'
        {%- endfor %}
        else upper({{ clean_enum(expr) }})
    end
{%- endmacro %}
