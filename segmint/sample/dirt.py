"""Deliberate dirt: duplicates, late arrivals, nulls, malformed values, unknown enums,
future timestamps (malformed text only in CSV)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.sample.calendar import DAY
from segmint.sample.columns import ids

# dirt kinds per table (CSV gets all; Parquet only the type-valid ones)
# dirt kinds per table (CSV gets all; Parquet only the type-valid ones)
MALFORMED_DATES = ("31/02/2026 25:00", "2026-13-45 10:00:00", "yesterday", "2026/02/30 12:00")
MALFORMED_AMOUNTS = ("12,50€", "N/A", "1.234,56", "€9.99")
DIRT_KINDS: dict[str, tuple[str, ...]] = {
    "customers": ("duplicate", "null_required", "malformed_date", "future"),
    "orders": (
        "duplicate",
        "null_required",
        "malformed_date",
        "malformed_amount",
        "unknown_enum",
        "future",
    ),
    "order_items": ("duplicate", "unknown_product", "null_required", "malformed_amount"),
    "events": ("duplicate", "late", "null_required", "malformed_date", "unknown_enum", "future"),
}
TYPE_VALID_DIRT = {
    "duplicate",
    "late",
    "null_required",
    "unknown_enum",
    "unknown_product",
    "future",
}


def _dirt_rows(rng: np.random.Generator, n: int, kinds: tuple[str, ...], rate: float) -> dict:
    """Disjoint random row sets per dirt kind (at least one row per kind when rate > 0)."""
    if rate <= 0 or n == 0:
        return {}
    k = max(1, math.ceil(n * rate / len(kinds)))
    k = min(k, n // len(kinds))
    if k == 0:
        return {}
    rows = rng.choice(n, size=k * len(kinds), replace=False)
    return {kind: np.sort(rows[i * k : (i + 1) * k]) for i, kind in enumerate(kinds)}


def _replace(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    """Replace a column's values at the given rows (values cast to the column's type)."""
    i = table.schema.get_field_index(column)
    col = table.column(i).combine_chunks()
    if pa.types.is_string(values.type) and not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())  # malformed text (CSV only) turns the column to text
    elif values.type != col.type:
        values = pc.cast(values, col.type)
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    return table.set_column(i, column, pc.replace_with_mask(col, pa.array(mask), values))


def dirty(
    table_name: str,
    table: pa.Table,
    rng: np.random.Generator,
    rate: float,
    fmt: str,
    ts: np.ndarray | None = None,
) -> pa.Table:
    """Inject the table's dirt kinds (malformed text only in CSV) at the given rate."""
    kinds = DIRT_KINDS.get(table_name, ())
    if fmt != "csv":
        kinds = tuple(k for k in kinds if k in TYPE_VALID_DIRT)
    rows = _dirt_rows(rng, table.num_rows, kinds, rate)
    if not rows:
        return table

    def choose(values: tuple[str, ...], k: int) -> pa.Array:
        return pa.array([values[i] for i in rng.integers(0, len(values), k)])

    def future(k: int) -> pa.Array:
        t0 = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
        return pa.array(t0 + rng.integers(0, 300 * DAY, k), type=pa.timestamp("s"))

    ts_col = {"customers": "updated_at", "orders": "ordered_at", "events": "occurred_at"}.get(
        table_name
    )
    for kind, r in rows.items():
        k = r.size
        if kind == "null_required":
            column = {"customers": "customer_id", "orders": "customer_id"}.get(table_name)
            column = column or {"order_items": "quantity", "events": "event_type"}[table_name]
            table = _replace(table, column, r, pa.nulls(k, table.schema.field(column).type))
        elif kind == "malformed_date":
            column = "birth_date" if table_name == "customers" else ts_col
            values = (
                ("31/02/1990", "1985-13-01", "unknown")
                if table_name == "customers"
                else MALFORMED_DATES
            )  # noqa: E501
            table = _replace(table, column, r, choose(values, k))
        elif kind == "malformed_amount":
            column = "total_amount" if table_name == "orders" else "unit_price"
            table = _replace(table, column, r, choose(MALFORMED_AMOUNTS, k))
        elif kind == "unknown_enum":
            column = "status" if table_name == "orders" else "event_type"
            values = (
                ("shipped", "pending", "on_hold")
                if table_name == "orders"
                else ("video_play", "page_veiw")
            )  # noqa: E501
            table = _replace(table, column, r, choose(values, k))
        elif kind == "unknown_product":
            table = _replace(table, "product_id", r, ids("P", 90000 + rng.integers(0, 9999, k), 5))
        elif kind == "future":
            table = _replace(table, ts_col, r, future(k))
    order = np.arange(table.num_rows)
    n_late = 0
    if "late" in rows and ts is not None:
        # late arrivals: events from days ago appended after newer rows at the end of the file
        tmax = ts.max()
        cand = np.flatnonzero((ts < tmax - 2 * DAY) & (ts > tmax - 25 * DAY))
        cand = cand if cand.size >= rows["late"].size else np.flatnonzero(ts < tmax - 2 * DAY)
        late = np.sort(rng.choice(cand, min(rows["late"].size, cand.size), replace=False))
        order = np.concatenate([np.delete(order, late), late])
        n_late = late.size
    if "duplicate" in rows:
        # exact copies of rows, a little after the original (before any late tail)
        dup = rows["duplicate"]
        where = np.empty(order.size, dtype=np.int64)
        where[order] = np.arange(order.size)
        body = order.size - n_late
        pos = np.minimum(where[dup] + 1 + rng.integers(0, 50, dup.size), body)
        order = np.insert(order, pos, dup)
    return table.take(pa.array(order))
