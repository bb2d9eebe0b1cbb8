"""Suite for ml.customer_segments: one segment assignment per customer."""

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
    not_empty,
    not_future,
    not_null,
    of_type,
    orphans,
    row_count_bounds,
    rows_where,
    suite,
)

COLUMNS = {
    "customer_id": TEXT,
    "segment_id": INTEGER,
    "segment_name": TEXT,
    "distance": NUMERIC,
    "model_version": TEXT,
    "scored_at": TIMESTAMP,
}


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Key, segment, distance and provenance (ERROR); names, orphans and drift (WARN)."""
    return suite(
        ctx,
        [
            columns_present(list(COLUMNS)),
            *[of_type(col, family) for col, family in COLUMNS.items()],
            not_null("customer_id"),
            duplicate_keys(
                ["customer_id", "scored_at"],
                Severity.ERROR,
                "customer_id unique per scoring run (scored_at)",
            ),
            not_null("segment_id"),
            between("segment_id", min_value=0, why="segment_id >= 0"),
            between("distance", min_value=0, why="distance >= 0 (null for prospects)"),
            not_null("model_version"),
            not_null("scored_at"),
            not_future(ctx, "scored_at"),
            not_null("segment_name", Severity.WARN),
            rows_where(
                "segment_id in (select segment_id from {batch} "
                "group by segment_id having count(distinct segment_name) > 1)",
                Severity.WARN,
                "one segment_name per segment_id",
            ),
            not_empty(Severity.WARN, "segments were produced"),
            orphans("customer_id", "marts.customer_360", "customer_id"),
            *row_count_bounds(ctx),
        ],
    )
