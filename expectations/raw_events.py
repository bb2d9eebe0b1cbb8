"""Suite for raw.events: the event stream contract (validated as SQL aggregates in DuckDB)."""

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

TABLE = "raw.events"


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks (ERROR), session/identity null rates (WARN), row-count drift."""
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES["events"]),
            not_null("session_id", Severity.WARN, mostly=0.9),
            *row_count_bounds(ctx),
        ],
    )
