"""Suite for ml.demand_forecasts: non-negative forecasts with ordered intervals."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    DATE,
    NUMERIC,
    TEXT,
    TIMESTAMP,
    Severity,
    SuiteContext,
    between,
    columns_present,
    duplicate_keys,
    not_empty,
    not_null,
    of_type,
    row_count_bounds,
    rows_where,
    suite,
)

COLUMNS = {
    "series_key": TEXT,
    "ds": DATE,
    "yhat": NUMERIC,
    "yhat_lower": NUMERIC,
    "yhat_upper": NUMERIC,
    "model_version": TEXT,
}
VALUES = ("yhat", "yhat_lower", "yhat_upper")


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Keys, non-negative values and yhat_lower <= yhat <= yhat_upper (ERROR); drift (WARN)."""
    ds_is_date = ctx.columns.get("ds", "DATE").upper() == "DATE"
    # One row per series (and metric, when several are forecast) and day, per model version.
    key = ["series_key", *(["metric"] if ctx.has("metric") else []), "ds", "model_version"]
    return suite(
        ctx,
        [
            columns_present(list(COLUMNS)),
            *[
                of_type(col, TIMESTAMP if col == "ds" and not ds_is_date else family)
                for col, family in COLUMNS.items()
            ],
            *[not_null(col) for col in key],
            duplicate_keys(key, Severity.ERROR, f"key ({', '.join(key)}) unique"),
            *[not_null(col) for col in VALUES],
            *[between(col, min_value=0, why=f"{col} >= 0") for col in VALUES],
            rows_where(
                "not (yhat_lower <= yhat and yhat <= yhat_upper)",
                Severity.ERROR,
                "yhat_lower <= yhat <= yhat_upper",
            ),
            not_empty(Severity.WARN, "forecasts were produced"),
            *row_count_bounds(ctx),
        ],
    )
