"""What every stager shares: file facts, header matching, temp-table housekeeping.

A stager reads one landing file with DuckDB's own readers, every column as text, into
temp._ing_src(_line, _malformed, _problems, <contract columns as VARCHAR>) with the
file's physical line numbers; validation takes it from there. Staging writes nothing persistent.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from segmint.contract import Table
from segmint.ingest.report import Refused, safe_message
from segmint.ingest.sql import q

BOM = "\ufeff"
MAX_LINE_SIZE = 64 * 1024 * 1024
_HASH_CHUNK = 4 * 1024 * 1024


@dataclass
class FileStats:
    sha256: str
    size: int
    lines: int  # physical lines (a last line without newline counts)
    newlines: int = 0  # b"\n" bytes
    crlf: int = 0  # of those, preceded by b"\r"

    @property
    def mixed_endings(self) -> bool:
        """Some lines end in CRLF and others in LF."""
        return 0 < self.crlf < self.newlines


def file_stats(path: Path) -> FileStats:
    """Streamed sha256, size, physical line count and line-ending counts of a file."""
    digest = hashlib.sha256()
    size = newlines = crlf = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            crlf += chunk.count(b"\r\n") + (1 if last == b"\r" and chunk[:1] == b"\n" else 0)
            last = chunk[-1:]
    lines = newlines + (1 if size and last != b"\n" else 0)
    return FileStats(digest.hexdigest(), size, lines, newlines, crlf)


def read_csv_header(path: Path) -> list[str] | None:
    """The header record of a CSV file (BOM stripped), or None for an empty file."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        try:
            return next(csv.reader(fh, delimiter=",", quotechar='"'))
        except StopIteration:
            return None
        except csv.Error as exc:
            raise Refused(f"unreadable CSV header ({safe_message(str(exc))})") from exc


def match_columns(table: Table, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map contract columns to header positions; list extra columns.

    A name given twice (compared trimmed and lower-cased) refuses the file: which of the
    two values is meant cannot be known.
    """
    positions: dict[str, int] = {}
    extra: list[str] = []
    seen: set[str] = set()
    for i, raw_name in enumerate(names):
        name = raw_name.strip().lstrip(BOM).strip().lower()
        if name in seen:
            raise Refused(f"duplicate column name {name!r} in the header (columns must be unique)")
        if name:
            seen.add(name)
        if name in table.column_names:
            positions[name] = i
        elif name:
            extra.append(name)
    return positions, extra


def check_required(table: Table, present: set[str], fmt: str) -> None:
    """Refuse the file when required contract columns are absent."""
    missing = [c for c in table.required_columns if c not in present]
    if missing:
        hint = " (is the header ',' delimited?)" if fmt == "csv" else ""
        raise Refused(
            f"missing required column(s) {', '.join(missing)} for table {table.name}{hint}"
        )


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temporary object (temp._ing_*) of the file being processed."""
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_ing_')"
    ).fetchall()
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary "
        "AND starts_with(table_name, '_ing_')"
    ).fetchall()
    for (name,) in views:
        con.execute(f"DROP VIEW IF EXISTS temp.{q(name)}")
    for (name,) in tables:
        con.execute(f"DROP TABLE IF EXISTS temp.{q(name)}")


def drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop DuckDB's CSV rejects tables so the next scan starts empty."""
    con.execute("DROP TABLE IF EXISTS temp._ing_rej")
    con.execute("DROP TABLE IF EXISTS temp._ing_rej_scan")


def map_lines_by_gaps(con: duckdb.DuckDBPyConnection, table: str, header: int) -> None:
    """Add _line to accepted rows (_k) from rejected record numbers in temp._ing_rejg.

    Valid when every physical line after the header is exactly one record: the k-th
    accepted record is the k-th line number (after the header) not taken by a reject.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_gap AS
        SELECT _d - j - {header} AS a, max(j) AS j
        FROM (SELECT _d, row_number() OVER (ORDER BY _d) AS j FROM temp._ing_rejg)
        GROUP BY 1
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table}_m AS
        SELECT s.*, s._k + {header} + coalesce(g.j, 0) AS _line
        FROM temp.{table} s ASOF LEFT JOIN temp._ing_gap g ON s._k > g.a
        """
    )


@dataclass
class Staged:
    """A file staged as temp._ing_src(_line, _malformed, _problems, <contract columns as
    VARCHAR>): _malformed says why a record could not be parsed, _problems lists reasons
    the stager found in a parsed record (e.g. not_scalar:<column>)."""

    notes: list[str] = field(default_factory=list)
    # Makes temp._ing_raw(_line, _raw_line) for the records in temp._ing_want(_line, _next).
    raw_lines: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def src_select(table: Table, exprs: dict[str, str]) -> str:
    """Select list of contract columns (absent ones NULL) as VARCHAR."""
    return ", ".join(f"{exprs.get(c, 'NULL')}::VARCHAR AS {q(c)}" for c in table.column_names)


def not_scalar_sql(table: Table, kinds: dict[str, str]) -> str:
    """SQL listing not_scalar:<column> for each non-JSON contract column whose kind (SQL
    expression: 'OBJECT', 'ARRAY' or anything else) is nested; NULL when none."""
    parts = [
        f"CASE WHEN {kind} IN ('OBJECT', 'ARRAY') THEN 'not_scalar:{name}' END"
        for name, kind in kinds.items()
        if table.column(name).type.upper() != "JSON"
    ]
    return f"NULLIF(concat_ws('; ', {', '.join(parts)}), '')" if parts else "NULL::VARCHAR"


def group_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """temp._ing_rejg(_d, msg): DuckDB's rejected records, one row per record number, then
    drop the rejects tables so the next scan starts empty."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_rejg AS
        SELECT _d, string_agg(msg, '; ' ORDER BY error_type) AS msg
        FROM (SELECT line::BIGINT AS _d, error_type::VARCHAR AS error_type,
                     arg_min(error_message, coalesce(column_idx, 0)) AS msg
              FROM temp._ing_rej GROUP BY ALL)
        GROUP BY _d
        """
    )
    drop_rejects(con)
