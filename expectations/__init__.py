"""Great Expectations suites as code and their runner.

``SUITES`` is the one list of checked tables (qualified names, in pipeline order) and the
module that builds each one's suite: every raw contract table shares ``expectations.raw``;
a mart or model table has a module of its own. ``validate(warehouse, table, ...)`` runs a
table's suite in DuckDB (read-only) and returns a ``ValidationOutcome``; ERROR failures block
publish, WARN failures annotate. Importing this package is cheap: Great Expectations loads
on first use of the runner's names.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from segmint.contract import TABLES

# Checked table -> module with build_suite(ctx) -> ExpectationSuite, in pipeline order.
SUITES: dict[str, str] = {
    **{f"raw.{name}": "expectations.raw" for name in TABLES},
    "marts.fct_orders": "expectations.fct_orders",
    "marts.customer_360": "expectations.customer_360",
    "ml.churn_scores": "expectations.churn_scores",
    "ml.customer_segments": "expectations.customer_segments",
    "ml.demand_forecasts": "expectations.demand_forecasts",
    "marts.customer_targeting": "expectations.customer_targeting",
}

_LAZY = {
    "validate": "expectations.runner",
    "ValidationOutcome": "expectations.runner",
    "FailedExpectation": "expectations.runner",
    "WarehouseLockedError": "expectations.runner",
    "build_suite": "expectations.runner",
    "read_previous_row_count": "expectations.runner",
    "record_row_count": "expectations.runner",
    "Severity": "expectations.common",
    "SuiteContext": "expectations.common",
}

__all__ = ["SUITES", *_LAZY]


def __getattr__(name: str) -> Any:
    """Load the runner (and Great Expectations) on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
