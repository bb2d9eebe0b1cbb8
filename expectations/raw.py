"""Suites for every raw.<table> of the contract (segmint.contract.TABLES).

Each suite is the contract restated as expectations (common.raw_table_expectations: schema,
types, required columns, keys, enums, ranges, foreign keys), a row-count drift bound, and the
few plausibility checks a table has beyond its contract (PLAUSIBILITY below). A new contract
table gets a suite without a new module.
"""

from __future__ import annotations

from collections.abc import Callable

import great_expectations as gx
from great_expectations.expectations.expectation import Expectation

from expectations.common import (
    Severity,
    SuiteContext,
    between,
    not_empty,
    not_null,
    orphans,
    raw_table_expectations,
    row_count_bounds,
    rows_where,
    suite,
)
from segmint.contract import TABLES


def _customers(ctx: SuiteContext) -> list[Expectation]:
    return [
        between(
            "birth_date",
            min_value=ctx.today.replace(year=ctx.today.year - 120),
            severity=Severity.WARN,
            why="birth_date within the last 120 years",
        ),
        not_null("signup_at", Severity.WARN, mostly=0.9),
        not_null("country", Severity.WARN, mostly=0.8),
        not_null("marketing_consent", Severity.WARN, mostly=0.8),
    ]


def _products(ctx: SuiteContext) -> list[Expectation]:
    return [
        not_null("category", Severity.WARN, mostly=0.95),
        not_null("unit_price", Severity.WARN, mostly=0.95),
    ]


def _orders(ctx: SuiteContext) -> list[Expectation]:
    return [
        not_empty(Severity.ERROR, "orders is the required table: at least one row"),
        not_null("status", Severity.WARN, mostly=0.95),
        not_null("total_amount", Severity.WARN, mostly=0.95),
        not_null("channel", Severity.WARN, mostly=0.9),
        rows_where(
            "discount_amount > total_amount", Severity.WARN, "discount_amount <= total_amount"
        ),
        orphans("customer_id", "raw.customers", "customer_id"),
    ]


def _order_items(ctx: SuiteContext) -> list[Expectation]:
    return [between("quantity", max_value=1000, severity=Severity.WARN, why="quantity <= 1000")]


def _events(ctx: SuiteContext) -> list[Expectation]:
    return [not_null("session_id", Severity.WARN, mostly=0.9)]


# Checks a raw table has beyond restating its contract (all WARN but orders' non-empty).
PLAUSIBILITY: dict[str, Callable[[SuiteContext], list[Expectation]]] = {
    "customers": _customers,
    "products": _products,
    "orders": _orders,
    "order_items": _order_items,
    "events": _events,
}


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks (ERROR), plausibility (WARN) and row-count drift of raw.<table>."""
    name = ctx.table.removeprefix("raw.")
    extra = PLAUSIBILITY.get(name)
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES[name]),
            *(extra(ctx) if extra else []),
            *row_count_bounds(ctx),
        ],
    )
