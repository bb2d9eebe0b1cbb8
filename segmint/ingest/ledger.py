"""raw.load_ledger: one row per file ingest looked at, and the schema ingest writes into."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from segmint import privacy
from segmint.contract import QUARANTINE_META_COLUMNS, RAW_META_COLUMNS, TABLES, Column
from segmint.ingest.report import LOADED, FileResult
from segmint.ingest.sql import column_defs, q

LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("file_path", "VARCHAR"),
    Column("file_hash", "VARCHAR"),
    Column("table_name", "VARCHAR"),
    Column("file_format", "VARCHAR"),
    Column("rows_read", "BIGINT"),
    Column("rows_loaded", "BIGINT"),
    Column("rows_quarantined", "BIGINT"),
    Column("status", "VARCHAR"),
    Column("message", "VARCHAR"),
    Column("started_at", "TIMESTAMP"),
    Column("finished_at", "TIMESTAMP"),
)


def wall_clock() -> datetime:
    """Current time as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas raw/quarantine, all raw and quarantine tables and the ledgers."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    for table in TABLES.values():
        raw_cols = [(c.name, c.type) for c in table.columns + RAW_META_COLUMNS]
        q_cols = [(c.name, "VARCHAR") for c in table.columns]
        q_cols += [(c.name, c.type) for c in QUARANTINE_META_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table.name} ({column_defs(raw_cols)})")
        con.execute(f"CREATE TABLE IF NOT EXISTS quarantine.{table.name} ({column_defs(q_cols)})")
        for c in QUARANTINE_META_COLUMNS:  # warehouses made before a column existed
            con.execute(
                f"ALTER TABLE quarantine.{table.name} ADD COLUMN IF NOT EXISTS {q(c.name)} {c.type}"
            )
    ledger = [(c.name, c.type) for c in LEDGER_COLUMNS]
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.load_ledger ({column_defs(ledger)})")
    privacy.ensure_ledgers(con)


def already_loaded(con: duckdb.DuckDBPyConnection, file_hash: str, table: str) -> bool:
    """Whether a file with this content was loaded into this table before."""
    (n,) = con.execute(
        "SELECT count(*) FROM raw.load_ledger WHERE file_hash = ? AND table_name = ? "
        "AND status = ?",
        [file_hash, table, LOADED],
    ).fetchall()[0]
    return bool(n)


def ledger_insert(con: duckdb.DuckDBPyConnection, result: FileResult, started: datetime) -> None:
    """Record one file's outcome in raw.load_ledger."""
    con.execute(
        "INSERT INTO raw.load_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.file,
            result.file_hash,
            result.table,
            result.file_format,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.status,
            result.message,
            started,
            wall_clock(),
        ],
    )
