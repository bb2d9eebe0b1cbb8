"""Suite for marts.customer_360: one row per customer with every feature the models use."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    BOOLEAN,
    DATE,
    INTEGER,
    NUMERIC,
    TEXT,
    TIMESTAMP,
    Severity,
    SuiteContext,
    between,
    columns_present,
    expect,
    not_empty,
    not_future,
    not_null,
    of_type,
    probability,
    quote,
    row_count_bounds,
    rows_where,
    suite,
    unique,
)

# Column -> type family (docs/interfaces.md); cat_share_<category> columns vary with the data.
COLUMNS: dict[str, str] = {
    "customer_id": TEXT,
    "customer_key": TEXT,
    "as_of_date": DATE,
    "age": INTEGER,
    "age_band": TEXT,
    "gender": TEXT,
    "country": TEXT,
    "city": TEXT,
    "acquisition_channel": TEXT,
    "marketing_consent": BOOLEAN,
    "signup_at": TIMESTAMP,
    "tenure_days": INTEGER,
    "first_order_at": TIMESTAMP,
    "last_order_at": TIMESTAMP,
    "recency_days": INTEGER,
    "frequency": INTEGER,
    "monetary": NUMERIC,
    "avg_order_value": NUMERIC,
    "orders_30d": INTEGER,
    "orders_90d": INTEGER,
    "orders_prev_90d": INTEGER,
    "revenue_90d": NUMERIC,
    "revenue_prev_90d": NUMERIC,
    "mean_interpurchase_days": NUMERIC,
    "cancel_rate": NUMERIC,
    "return_rate": NUMERIC,
    "discount_share": NUMERIC,
    "historical_clv": NUMERIC,
    "distinct_categories": INTEGER,
    "top_category": TEXT,
    "preferred_channel": TEXT,
    "rfm_recency_score": INTEGER,
    "rfm_frequency_score": INTEGER,
    "rfm_monetary_score": INTEGER,
    "rfm_score": INTEGER,
    "rfm_class": TEXT,
    "sessions_7d": INTEGER,
    "sessions_30d": INTEGER,
    "sessions_90d": INTEGER,
    "days_since_last_visit": INTEGER,
    "product_views_90d": INTEGER,
    "cart_adds_90d": INTEGER,
    "view_to_cart_rate": NUMERIC,
    "cart_to_purchase_rate": NUMERIC,
    "email_sends_90d": INTEGER,
    "email_opens_90d": INTEGER,
    "email_clicks_90d": INTEGER,
    "email_open_rate": NUMERIC,
    "email_click_rate": NUMERIC,
    "sessions_prev_30d": INTEGER,
    "engagement_trend": NUMERIC,
}

NON_NEGATIVE = (
    "tenure_days",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "orders_30d",
    "orders_90d",
    "orders_prev_90d",
    "revenue_90d",
    "revenue_prev_90d",
    "mean_interpurchase_days",
    "distinct_categories",
    "sessions_7d",
    "sessions_30d",
    "sessions_90d",
    "days_since_last_visit",
    "product_views_90d",
    "cart_adds_90d",
    "email_sends_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "sessions_prev_30d",
    "engagement_trend",
)
SHARES = ("cancel_rate", "return_rate", "discount_share")
COUNT_WINDOWS = (("orders_30d", "orders_90d"), ("sessions_7d", "sessions_30d"))


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Keys, types, ranges and dates (ERROR); plausibility, null rates and drift (WARN)."""
    exps = [
        columns_present(list(COLUMNS)),
        not_empty(Severity.ERROR, "customer_360 has at least one customer"),
        not_null("customer_id"),
        unique(["customer_id"]),
        not_null("customer_key"),
        unique(["customer_key"]),
        not_null("as_of_date"),
        *[of_type(col, family) for col, family in COLUMNS.items()],
        *[between(col, min_value=0) for col in NON_NEGATIVE],
        *[probability(col) for col in SHARES],
        *[
            not_future(ctx, col)
            for col in ("as_of_date", "signup_at", "first_order_at", "last_order_at")
        ],
        rows_where(
            "first_order_at > last_order_at", Severity.ERROR, "first_order_at <= last_order_at"
        ),
        rows_where(
            "last_order_at::date > as_of_date",
            Severity.ERROR,
            "no order after as_of_date feeds the features",
        ),
        *[
            rows_where(f"{quote(a)} > {quote(b)}", Severity.ERROR, f"{a} <= {b}")
            for a, b in COUNT_WINDOWS
        ],
        expect_single_as_of(),
        between("age", 0, 120, Severity.WARN),
        *[
            between(col, 1, 5, Severity.WARN)
            for col in ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score")
        ],
        *[probability(col, Severity.WARN) for col in ("email_open_rate", "email_click_rate")],
        rows_where(
            "length(customer_key) <> 64", Severity.WARN, "customer_key is a sha256 hex digest"
        ),
        not_null("country", Severity.WARN, mostly=0.5),
    ]
    for col in ctx.columns:
        if col.startswith("cat_share_"):
            exps.append(probability(col))
    exps.extend(row_count_bounds(ctx, min_ratio=0.9, max_ratio=2.0))
    return suite(ctx, exps)


def expect_single_as_of() -> gx.expectations.Expectation:
    """All rows share one as_of_date (features computed at one point in time)."""
    return expect(
        gx.expectations.ExpectColumnUniqueValueCountToBeBetween,
        Severity.ERROR,
        "one as_of_date for the whole table",
        column="as_of_date",
        min_value=0,
        max_value=1,
    )
