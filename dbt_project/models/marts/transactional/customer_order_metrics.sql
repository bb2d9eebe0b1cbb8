{#- Per-customer transactional metrics as of the as-of date (completed orders unless the
    column says otherwise). -#}

with

{{ customer_feature_ctes(as_of_cutoffs()) }}

select
    universe.customer_id,
    universe.as_of_date,
    order_features.first_order_at,
    order_features.last_order_at,
    order_features.recency_days,
    cast(order_features.frequency as {{ dbt.type_bigint() }}) as frequency,
    cast(order_features.monetary as {{ type_double() }}) as monetary,
    order_features.avg_order_value,
    demographics_banded.tenure_days,
    cast(order_features.mean_interpurchase_days as {{ type_double() }}) as mean_interpurchase_days,
    order_features.cancel_rate,
    order_features.return_rate,
    order_features.discount_share,
    cast(order_features.historical_clv as {{ type_double() }}) as historical_clv,
    case
        when source_presence.has_order_items
            then cast(coalesce(category_features.distinct_categories, 0) as {{ dbt.type_bigint() }})
    end as distinct_categories,
    category_features.top_category,
    order_features.preferred_channel,
    {%- for slug in category_slug_map() | sort %}
    category_features.cat_share_{{ slug }},
    {%- endfor %}
    cast(order_features.orders_30d as {{ dbt.type_bigint() }}) as orders_30d,
    cast(order_features.orders_90d as {{ dbt.type_bigint() }}) as orders_90d,
    cast(order_features.revenue_90d as {{ type_double() }}) as revenue_90d
from universe
cross join source_presence
left join order_features
    on universe.cutoff_date = order_features.cutoff_date
    and universe.customer_id = order_features.customer_id
left join demographics_banded
    on universe.cutoff_date = demographics_banded.cutoff_date
    and universe.customer_id = demographics_banded.customer_id
left join category_features
    on universe.cutoff_date = category_features.cutoff_date
    and universe.customer_id = category_features.customer_id
where order_features.first_order_at is not null
