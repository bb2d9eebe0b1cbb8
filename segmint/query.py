"""`segmint sql`: one analyst query against a snapshot, sandboxed, and its output formats.

The connection is read-only with DuckDB's external access disabled and its configuration
locked (https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview): no
`COPY ... TO`, `EXPORT DATABASE`, attach of other files, reads of files on disk, or
extension installs, and no `SET` that would undo it. Statements other than queries
(`VACUUM`, `CHECKPOINT`, DDL, DML) are refused before they run. The same holds for
`--working` (operators querying the working file).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import duckdb

from segmint.errors import SegmintError, user_error_from
from segmint.warehouse import check_database_file

# Queries: SELECT (with WITH, FROM-first, DESCRIBE, SHOW, SUMMARIZE, PIVOT) and EXPLAIN.
QUERY_TYPES = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
SANDBOX = {"enable_external_access": False, "lock_configuration": True}
FORMATS = ("table", "csv", "json")


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def connect_sandboxed(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `path` that cannot touch any other file."""
    check_database_file(path)
    try:
        return duckdb.connect(str(path), read_only=True, config=dict(SANDBOX))
    except duckdb.Error as exc:
        raise user_error_from(exc) or SegmintError(_first_line(exc)) from None


def _statements(query: str) -> list[Any]:
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise SegmintError(_first_line(exc)) from None
    if not statements:
        raise SegmintError("no SQL statement given")
    for st in statements:
        if st.type not in QUERY_TYPES:
            kind = st.query.strip().split(None, 1)[0].upper() if st.query.strip() else st.type
            raise SegmintError(
                f"{kind} refused: segmint sql is read-only and runs queries only (SELECT, "
                "WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
            )
    return statements


def run_query(path: Path, query: str) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """Columns and rows of the last statement of `query` (None when it returns nothing)."""
    statements = _statements(query)
    con = connect_sandboxed(path)
    try:
        rel = None
        for st in statements:
            try:
                rel = con.execute(st.query)
            except duckdb.Error as exc:
                raise SegmintError(_first_line(exc)) from None
        if rel is None or rel.description is None:
            return None
        return [d[0] for d in rel.description], rel.fetchall()
    finally:
        con.close()


def _float_text(v: float) -> str:
    """A float without binary noise (15 significant digits), for CSV."""
    return format(v, ".15g")


def display(v: Any) -> str:
    """A value as a person reads it in a table: floats rounded, NULL blank."""
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        digits = 2 if abs(v) >= 1 else 4
        text = f"{v:.{digits}f}" if abs(v) >= 1 or v == 0 else f"{v:.{digits}g}"
        return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text
    return str(v)


def json_value(v: Any) -> Any:
    """A value as strict JSON: NaN and infinities null, decimals numbers, times ISO text."""
    if isinstance(v, float):
        return float(_float_text(v)) if math.isfinite(v) else None
    if isinstance(v, Decimal):
        return float(v) if v.is_finite() else None
    if isinstance(v, bool | int | str) or v is None:
        return v
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_value(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return v.hex()
    return str(v)


def write_json(cols: Sequence[str], rows: Sequence[tuple[Any, ...]], stream: IO[str]) -> None:
    data = [{c: json_value(v) for c, v in zip(cols, r, strict=True)} for r in rows]
    stream.write(json.dumps(data, allow_nan=False, ensure_ascii=False))
    stream.write("\n")


def write_csv(cols: Sequence[str], rows: Sequence[tuple[Any, ...]], stream: IO[str]) -> None:
    writer = csv.writer(stream)
    writer.writerow(cols)
    for r in rows:
        writer.writerow(_float_text(v) if isinstance(v, float) else v for v in r)
