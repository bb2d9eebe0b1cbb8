"""The ingest run: every landing file loaded atomically (raw + quarantine + ledger) or
refused or skipped, one file at a time on one connection."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from segmint import privacy
from segmint.contract import EARLIEST_DATA_DATE, FILE_SUFFIXES, TABLES, Table
from segmint.ingest.discovery import scan
from segmint.ingest.ledger import already_loaded, ensure_schema, ledger_insert, wall_clock
from segmint.ingest.report import (
    IGNORED,
    LOADED,
    REFUSED,
    SKIPPED,
    FileResult,
    IngestError,
    IngestReport,
    Progress,
    Refused,
    safe_message,
)
from segmint.ingest.stage_csv import stage_csv
from segmint.ingest.stage_json import stage_json
from segmint.ingest.stage_parquet import stage_parquet
from segmint.ingest.staging import cleanup, file_stats
from segmint.ingest.validation import validate_and_load
from segmint.settings import get_settings

STAGERS = {"csv": stage_csv, "json": stage_json, "parquet": stage_parquet}


def _utc_naive(ts: datetime) -> datetime:
    """A datetime as naive UTC."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: Table,
    now: datetime,
    erasure: frozenset[str] = frozenset(),
    earliest: date = EARLIEST_DATA_DATE,
    label: str | None = None,
) -> FileResult:
    """Load one file atomically (raw + quarantine + ledger) or refuse/skip it.

    `label` names the file in the ledger, the raw lineage and the messages (a Postgres
    batch is named by its source table and batch, not its place in the warehouse folder).
    """
    started = wall_clock()
    fmt = FILE_SUFFIXES[path.suffix.lower()]
    name = label or str(path.resolve())
    shown = label or path.name
    try:
        stats = file_stats(path)
    except OSError as exc:
        message = f"{shown} refused: cannot read file ({exc.strerror}); nothing loaded"
        result = FileResult(table.name, name, None, 0, 0, 0, REFUSED, message, fmt)
        ledger_insert(con, result, started)
        return result
    if already_loaded(con, stats.sha256, table.name):
        return FileResult(
            table.name,
            name,
            stats.sha256,
            0,
            0,
            0,
            SKIPPED,
            f"{shown}: same content already loaded",
            fmt,
        )
    cleanup(con)
    try:
        # Staging (read + parse into temp tables) writes nothing persistent.
        staged = STAGERS[fmt](con, path, table, stats)
        con.begin()
        try:
            read, loaded, quarantined, suppressed = validate_and_load(
                con, table, name, stats.sha256, now, now, erasure, earliest, staged.raw_lines
            )
            erased = f" ({suppressed} of erased people, values blanked)" if suppressed else ""
            parts = [
                f"{shown}: {read} rows read, {loaded} loaded, {quarantined} quarantined" + erased
            ]
            result = FileResult(
                table.name,
                name,
                stats.sha256,
                read,
                loaded,
                quarantined,
                LOADED,
                "; ".join(parts + staged.notes),
                fmt,
                suppressed,
            )
            ledger_insert(con, result, started)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return result
    except Refused as exc:
        message = f"{shown} refused: {exc}; nothing loaded"
    except duckdb.Error as exc:
        reason = safe_message(str(exc))
        message = f"{shown} refused: could not load {fmt} file ({reason}); nothing loaded"
    finally:
        cleanup(con)
    result = FileResult(table.name, name, stats.sha256, 0, 0, 0, REFUSED, message, fmt)
    ledger_insert(con, result, started)
    return result


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write with a user-facing error when it is locked."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.IOException as exc:
        raise IngestError(f"cannot open warehouse {warehouse}: {safe_message(str(exc))}") from exc
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")  # staging rowid = file order
    return con


def ingest(
    landing: Path,
    warehouse: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
    earliest: date | None = None,
) -> IngestReport:
    """Load every landing file into raw.* / quarantine.* and return what happened.

    `earliest`: the earliest plausible order/event/signup date (default: the setting
    ingest_earliest_date); older timestamps are quarantined as implausible_timestamp.
    """
    landing, warehouse = Path(landing), Path(warehouse)
    if earliest is None:
        earliest = get_settings().ingest_earliest_date
    if not landing.is_dir():
        raise IngestError(f"landing folder not found: {landing}")
    found, ignored, special = scan(landing)
    now = _utc_naive(now) if now is not None else wall_clock()
    report = IngestReport(str(landing), str(warehouse))
    todo = [(path, TABLES[t]) for t in TABLES for path in found[t]]
    con = _connect(warehouse)
    try:
        ensure_schema(con)
        privacy.prepare(con)
        if not found["orders"]:
            has_orders = con.execute("SELECT count(*) FROM raw.orders").fetchall()[0][0]
            if not has_orders:
                unusable = [f"{p.name} is {why}" for p, t, why in special if t == "orders"]
                raise IngestError(
                    f"no orders file found in {landing} (expected orders.csv, "
                    "orders_*.csv|.parquet|.jsonl or files in an orders/ folder)"
                    + (f"; {'; '.join(unusable)}" if unusable else "")
                )
        # Only segmint forget writes the erasure ledgers, and never during an ingest.
        erasure = privacy.erasure_kinds(con)
        if progress:
            progress("ingest", 0, len(todo))
        for i, (path, table) in enumerate(todo, start=1):
            report.files.append(_ingest_file(con, path, table, now, erasure, earliest))
            if progress:
                progress(f"{table.name}: {path.name}", i, len(todo))
        for path, table_name, why in special:
            result = FileResult(
                table_name,
                str(path),
                None,
                0,
                0,
                0,
                REFUSED if table_name else IGNORED,
                f"{path.name} {'refused' if table_name else 'ignored'}: {why}; nothing loaded",
            )
            if table_name:
                ledger_insert(con, result, wall_clock())
            report.files.append(result)
        for path in ignored:
            report.files.append(
                FileResult(
                    None,
                    str(path),
                    None,
                    0,
                    0,
                    0,
                    IGNORED,
                    f"{path.name}: matches no table (name or folder) or format",
                )
            )
    finally:
        con.close()
    return report
