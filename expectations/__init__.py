"""Great Expectations suites as code, one module per checked table, and their runner.

``validate(warehouse, table, ...)`` runs a table's suite in DuckDB (read-only) and returns a
``ValidationOutcome``; ERROR failures block publish, WARN failures annotate. Importing this
package is cheap: Great Expectations loads on first use of the names below.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Every checked table, in pipeline order (customer_targeting's schema is looked up).
CHECKED_TABLES = (
    "raw.customers",
    "raw.products",
    "raw.orders",
    "raw.order_items",
    "raw.events",
    "marts.customer_360",
    "ml.churn_scores",
    "ml.customer_segments",
    "ml.demand_forecasts",
    "customer_targeting",
)

_LAZY = {
    "validate": "expectations.runner",
    "ValidationOutcome": "expectations.runner",
    "FailedExpectation": "expectations.runner",
    "WarehouseLockedError": "expectations.runner",
    "build_suite": "expectations.runner",
    "read_previous_row_count": "expectations.runner",
    "record_row_count": "expectations.runner",
    "SUITES": "expectations.runner",
    "Severity": "expectations.common",
    "SuiteContext": "expectations.common",
}

__all__ = ["CHECKED_TABLES", *_LAZY]


def __getattr__(name: str) -> Any:
    """Load the runner (and Great Expectations) on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
