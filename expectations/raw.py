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
    null_rate,
    orphans,
    raw_table_expectations,
    row_count_bounds,
    share_at_most,
    suite,
)
from segmint.contract import TABLES


def _customers(ctx: SuiteContext) -> list[Expectation]:
    return [
        # Placeholder birth dates (1900-01-01) are common in real exports: a few are noise.
        between(
            "birth_date",
            min_value=ctx.today.replace(year=ctx.today.year - 120),
            severity=Severity.WARN,
            why="birth_date within the last 120 years for 99% of customers",
            mostly=0.99,
        ),
        *null_rate(ctx, "signup_at", mostly=0.9),
        *null_rate(ctx, "country", mostly=0.8),
        *null_rate(ctx, "marketing_consent", mostly=0.8),
    ]


def _products(ctx: SuiteContext) -> list[Expectation]:
    return [*null_rate(ctx, "category", mostly=0.95), *null_rate(ctx, "unit_price", mostly=0.95)]


def _orders(ctx: SuiteContext) -> list[Expectation]:
    return [
        not_empty(Severity.ERROR, "orders is the required table: at least one row"),
        *null_rate(ctx, "status", mostly=0.95),
        *null_rate(ctx, "total_amount", mostly=0.95),
        *null_rate(ctx, "channel", mostly=0.9),
        # total_amount is what was paid: a voucher larger than a small order is legitimate.
        share_at_most(
            "discount_amount > total_amount", 0.2, "orders with a discount above the amount paid"
        ),
    ]


def _order_items(ctx: SuiteContext) -> list[Expectation]:
    return [
        between(
            "quantity",
            max_value=1000,
            severity=Severity.WARN,
            why="quantity <= 1000 for 99.9% of lines",
            mostly=0.999,
        )
    ]


# Events a visit on the site or app is made of; e-mail events, app opens, logins and store
# purchases legitimately have no session.
BROWSING_EVENTS = ("page_view", "product_view", "search", "add_to_cart", "remove_from_cart")


def _events(ctx: SuiteContext) -> list[Expectation]:
    if not ctx.is_populated("session_id"):
        return []
    browsing = ", ".join(f"'{t}'" for t in BROWSING_EVENTS)
    return [
        share_at_most(
            f"session_id is null and lower(trim(event_type)) in ({browsing})",
            0.1,
            "browsing events (page and product views, searches, cart changes) carry a session_id",
        )
    ]


# Checks a raw table has beyond restating its contract (all WARN but orders' non-empty).
PLAUSIBILITY: dict[str, Callable[[SuiteContext], list[Expectation]]] = {
    "customers": _customers,
    "products": _products,
    "orders": _orders,
    "order_items": _order_items,
    "events": _events,
}

# (table, column) -> the share of rows that may reference no parent row. Orphans load by
# design: guest checkouts or a customers file of registered people only leave orders
# without a customer record; a catalogue export without discontinued products leaves order
# lines without a product; lines may land a batch before their order. A share above these
# means the files do not match (ids formatted differently, the wrong extract).
ORPHAN_SHARE: dict[tuple[str, str], float] = {
    ("orders", "customer_id"): 0.5,
    ("order_items", "order_id"): 0.05,
    ("order_items", "product_id"): 0.05,
}
# The parent of each reference that is not a contract foreign key.
EXTRA_PARENTS: dict[tuple[str, str], str] = {("orders", "customer_id"): "customers"}


def _references(name: str) -> list[Expectation]:
    parents = {(name, c): p for c, p in TABLES[name].foreign_keys.items()}
    parents.update({k: p for k, p in EXTRA_PARENTS.items() if k[0] == name})
    return [
        orphans(column, f"raw.{parent}", column, ORPHAN_SHARE[(name, column)])
        for (_, column), parent in sorted(parents.items())
    ]


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Contract checks (ERROR), plausibility (WARN) and row-count drift of raw.<table>."""
    name = ctx.table.removeprefix("raw.")
    extra = PLAUSIBILITY.get(name)
    return suite(
        ctx,
        [
            *raw_table_expectations(ctx, TABLES[name]),
            *(extra(ctx) if extra else []),
            *_references(name),
            *row_count_bounds(ctx),
        ],
    )
