"""Suite for raw.products: the products contract plus catalogue completeness."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    Severity,
    SuiteContext,
    not_null,
    raw_table_expectations,
    row_count_bounds,
    suite,
)
from segmint.contract import TABLES

TABLE = "raw.products"


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks (ERROR), category/price null rates (WARN), row-count drift."""
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES["products"]),
            not_null("category", Severity.WARN, mostly=0.95),
            not_null("unit_price", Severity.WARN, mostly=0.95),
            *row_count_bounds(ctx),
        ],
    )
