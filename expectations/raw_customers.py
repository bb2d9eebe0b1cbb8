"""Suite for raw.customers: the customers contract plus plausibility of profiles."""

from __future__ import annotations

import great_expectations as gx

from expectations.common import (
    Severity,
    SuiteContext,
    between,
    not_null,
    raw_table_expectations,
    row_count_bounds,
    suite,
)
from segmint.contract import TABLES

TABLE = "raw.customers"


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks (ERROR), profile plausibility and null rates (WARN), row-count drift."""
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES["customers"]),
            between(
                "birth_date",
                min_value=ctx.today.replace(year=ctx.today.year - 120),
                severity=Severity.WARN,
                why="birth_date within the last 120 years",
            ),
            not_null("signup_at", Severity.WARN, mostly=0.9),
            not_null("country", Severity.WARN, mostly=0.8),
            not_null("marketing_consent", Severity.WARN, mostly=0.8),
            *row_count_bounds(ctx),
        ],
    )
