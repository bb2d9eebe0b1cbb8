{#- customer_360 as of several earlier cutoffs (as_of - k * churn_horizon_days, k = 1 ..
    history_cutoffs) for churn training: only rows before the end of each cutoff_date feed its
    features, and a customer appears for a cutoff only if known by then. -#}

with

{{ customer_feature_ctes(history_cutoffs()) }}

{{ customer_360_select(with_cutoff_date=true) }}
