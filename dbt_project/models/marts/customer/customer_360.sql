{#- One row per customer known by the as-of date, with every feature (the table the models
    read). Logic lives in macros/customer_features.sql, shared with customer_360_history. -#}

with

{{ customer_feature_ctes(as_of_cutoffs()) }}

{{ customer_360_select(with_cutoff_date=false) }}
