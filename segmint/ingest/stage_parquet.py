"""Stage a Parquet file: every column cast to text (nested types as JSON text)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from segmint.contract import Table
from segmint.ingest.report import Refused, safe_message
from segmint.ingest.sql import lit, q
from segmint.ingest.staging import (
    FileStats,
    Staged,
    check_required,
    match_columns,
    not_scalar_sql,
    src_select,
)

_NESTED_TYPE = re.compile(r"^(STRUCT|MAP|UNION|JSON)\b|\[\d*\]$")


def stage_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: FileStats
) -> Staged:
    """Stage a Parquet file: every column cast to text (nested types as JSON text)."""
    src = f"read_parquet({lit(str(path))}, file_row_number=true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    except duckdb.Error as exc:
        raise Refused(f"unreadable Parquet file ({safe_message(str(exc))})") from exc
    names = [(r[0], str(r[1])) for r in described if r[0] != "file_row_number"]
    positions, extra = match_columns(table, [n for n, _ in names])
    check_required(table, set(positions), "parquet")
    exprs: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for col, i in positions.items():
        name, dtype = names[i]
        nested = bool(_NESTED_TYPE.search(dtype))
        exprs[col] = f"to_json({q(name)})" if nested else q(name)
        if nested:
            kinds[col] = f"CASE WHEN {q(name)} IS NOT NULL THEN json_type(to_json({q(name)})) END"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_src AS
        SELECT file_row_number + 1 AS _line, NULL::VARCHAR AS _malformed,
               {not_scalar_sql(table, kinds)} AS _problems, {src_select(table, exprs)}
        FROM {src}
        """
    )
    notes = [f"ignored extra column(s): {', '.join(extra)}"] if extra else []
    return Staged(notes, raw_lines=lambda c: _raw_rows(c, src))


def _raw_rows(con: duckdb.DuckDBPyConnection, src: str) -> None:
    """temp._ing_raw(_line, _raw_line): the wanted rows as JSON objects (a Parquet file has
    no text lines; the row with its own column names is what a user can fix and re-send).
    The reader's file_row_number is the struct's last field and is cut off."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_raw AS
        SELECT r.file_row_number + 1 AS _line,
               regexp_replace(to_json(r)::VARCHAR, ',"file_row_number":\d+}}$', '}}') AS _raw_line
        FROM {src} r
        WHERE r.file_row_number + 1 IN (SELECT _line FROM temp._ing_want)
        """
    )
