"""The as-of date of a run: a real YYYY-MM-DD date within the data, checked before any work.

An as-of far after the data made the forecast zero-fill daily series for decades (a run of
hours); one before the data failed deep inside dbt. Both are refused up front with the
data's actual range: `parse_as_of` for the text (CLI, before anything starts), `check_as_of`
against the orders and events loaded in raw (the CLI before a run when raw holds data, and
the pipeline right after ingest, before dbt).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb

from segmint.catalog import has_table
from segmint.errors import SegmintError

DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
# An as-of may be the day after the latest data (a nightly run just after midnight).
SLACK = timedelta(days=1)
# (schema, table, timestamp column) whose dates make the data's range, as int_as_of reads.
DATED = (("raw", "orders", "ordered_at"), ("raw", "events", "occurred_at"))


def parse_as_of(text: str | None) -> date | None:
    """The as-of date of `text` (None when not given); SegmintError unless YYYY-MM-DD."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if not DATE_TEXT.fullmatch(text):
        raise SegmintError(f"--as-of {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-31")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise SegmintError(f"--as-of {text!r} is not a date ({exc}): use YYYY-MM-DD") from None


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """(earliest, latest) date of the orders and events in raw; None when raw holds none."""
    parts = [
        f'select min("{col}") lo, max("{col}") hi from "{schema}"."{table}"'
        for schema, table, col in DATED
        if has_table(con, schema, table)
    ]
    if not parts:
        return None
    lo, hi = con.execute(
        f"select min(lo)::date, max(hi)::date from ({' union all '.join(parts)})"
    ).fetchone()
    return None if lo is None or hi is None else (lo, hi)


def check_as_of(as_of: date | str | None, span: tuple[date, date] | None) -> None:
    """SegmintError when `as_of` lies before the data or more than a day after it."""
    if isinstance(as_of, str) or as_of is None:
        as_of = parse_as_of(as_of)
    if as_of is None or span is None:
        return
    earliest, latest = span
    if as_of < earliest or as_of > latest + SLACK:
        side = "before the earliest" if as_of < earliest else "more than a day after the latest"
        raise SegmintError(
            f"--as-of {as_of} is {side} data: orders and events run from {earliest} to "
            f"{latest}; give a date from {earliest} to {latest + SLACK}, or leave --as-of out "
            "for the latest"
        )


def check_as_of_file(warehouse: Path, as_of: date | str | None) -> None:
    """check_as_of against the raw data of the warehouse file (read-only)."""
    if parse_as_of(as_of if isinstance(as_of, str) or as_of is None else str(as_of)) is None:
        return
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        span = data_range(con)
    finally:
        con.close()
    check_as_of(as_of, span)
