"""Suite for raw.order_items: the order lines contract and their links to orders/products."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    Severity,
    SuiteContext,
    between,
    raw_table_expectations,
    row_count_bounds,
    suite,
)
from segmint.contract import TABLES

TABLE = "raw.order_items"


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks incl. orphan FKs (WARN), plausible quantities (WARN), drift."""
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES["order_items"]),
            between("quantity", max_value=1000, severity=Severity.WARN, why="quantity <= 1000"),
            *row_count_bounds(ctx),
        ],
    )
