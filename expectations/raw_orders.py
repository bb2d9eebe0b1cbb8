"""Suite for raw.orders: the one required raw table."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    Severity,
    SuiteContext,
    not_empty,
    not_null,
    orphans,
    raw_table_expectations,
    row_count_bounds,
    rows_where,
    suite,
)
from segmint.contract import TABLES

TABLE = "raw.orders"


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks and non-empty (ERROR); null rates, orphans, discounts, drift (WARN)."""
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES["orders"]),
            not_empty(Severity.ERROR, "orders is the required table: at least one row"),
            not_null("status", Severity.WARN, mostly=0.95),
            not_null("total_amount", Severity.WARN, mostly=0.95),
            not_null("channel", Severity.WARN, mostly=0.9),
            rows_where(
                "discount_amount > total_amount",
                Severity.WARN,
                "discount_amount <= total_amount",
            ),
            orphans("customer_id", "raw.customers", "customer_id"),
            *row_count_bounds(ctx),
        ],
    )
