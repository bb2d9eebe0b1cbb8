"""Suite for ml.churn_scores: one churn probability and risk band per customer."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    INTEGER,
    NUMERIC,
    TEXT,
    TIMESTAMP,
    Severity,
    SuiteContext,
    between,
    columns_present,
    duplicate_keys,
    in_set,
    not_empty,
    not_future,
    not_null,
    of_type,
    orphans,
    probability,
    query_rows,
    row_count_bounds,
    suite,
)

RISK_BANDS = ("low", "medium", "high")
COLUMNS = {
    "customer_id": TEXT,
    "churn_probability": NUMERIC,
    "risk_band": TEXT,
    "top_drivers": None,  # list or JSON text, depending on the writer
    "horizon_days": INTEGER,
    "model_version": TEXT,
    "scored_at": TIMESTAMP,
}
# Per band: its rank and probability range; bands must not overlap in the wrong order.
_BANDS = (
    "(select risk_band, case risk_band when 'low' then 0 when 'medium' then 1 else 2 end "
    "as rank, min(churn_probability) as min_p, max(churn_probability) as max_p "
    "from {batch} where risk_band in ('low', 'medium', 'high') group by risk_band)"
)


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Key, probability range, bands and provenance (ERROR); band order, orphans, drift (WARN)."""
    return suite(
        ctx,
        [
            columns_present(list(COLUMNS)),
            *[of_type(col, family) for col, family in COLUMNS.items() if family],
            not_null("customer_id"),
            duplicate_keys(
                ["customer_id", "scored_at"],
                Severity.ERROR,
                "customer_id unique per scoring run (scored_at)",
            ),
            not_null("churn_probability"),
            probability("churn_probability"),
            not_null("risk_band"),
            in_set("risk_band", RISK_BANDS),
            between("horizon_days", min_value=1, why="horizon_days >= 1"),
            not_null("model_version"),
            not_null("scored_at"),
            not_future(ctx, "scored_at"),
            query_rows(
                f"select lo.risk_band, lo.max_p, hi.risk_band as higher_band, hi.min_p "
                f"from {_BANDS} lo join {_BANDS} hi on hi.rank > lo.rank where lo.max_p > hi.min_p",
                Severity.WARN,
                "risk bands ordered by churn_probability (low < medium < high)",
            ),
            not_empty(Severity.WARN, "churn scores were produced"),
            orphans("customer_id", "marts.customer_360", "customer_id"),
            *row_count_bounds(ctx),
        ],
    )
