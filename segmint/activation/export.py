"""Audience exports and syncs: select, hold out, diff, deliver, then record.

One run = one audience to one destination:

1. select the customers of marts.customer_targeting matching the audience, keeping only
   those with marketing consent who are not erased (selection: privacy.ELIGIBLE, applied
   again when rows are read for delivery);
2. split off the holdout (control) group, recorded on first sight (selection);
3. diff the exported group against the last successful export to that destination
   (activation.audience_membership): adds and removes (selection);
4. deliver: files written atomically plus a manifest (full: every member; delta: adds and
   removals), or one Postgres transaction (delivery);
5. only then commit the new membership state, the per-run member snapshot, the holdout
   assignments and the run's counts in one DuckDB transaction, which also purges whatever
   activation state of ledgered customers is left (state.commit_state). A failure anywhere
   before leaves the state untouched (the run is recorded as failed, files removed).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb

from segmint import privacy
from segmint.activation.audience import Audience, Destination
from segmint.activation.delivery import deliver_files, deliver_postgres
from segmint.activation.formats import FILE_FORMATS
from segmint.activation.selection import Mode, Selection, checked_schema
from segmint.activation.state import (
    SCHEMA,
    ExportResult,
    commit_state,
    ensure_activation_schema,
    utcnow,
)
from segmint.activation.targeting import TARGETING, AudienceError, require_columns
from segmint.errors import SegmintError

log = logging.getLogger(__name__)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable unique run id: UTC time + random suffix."""
    return f"{(now or utcnow()):%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def _error_text(exc: BaseException) -> str:
    """What a failed run records: our own messages in full, others by type only (no data)."""
    if isinstance(exc, SegmintError):
        return f"{type(exc).__name__}: {exc}"[:1000]
    return f"{type(exc).__name__} (details in the exception raised to the caller)"


def _check(con: duckdb.DuckDBPyConnection, audience: Audience, dest: Destination) -> dict[str, str]:
    """The targeting columns, once the audience and the destination's format fit them."""
    schema = checked_schema(con, audience)
    if dest.format != "postgres":
        fmt = FILE_FORMATS[dest.format]
        require_columns(
            schema,
            sorted(set(fmt.columns(audience, dest)) | set(fmt.removal_columns(audience, dest))),
            f"format {dest.format}",
        )
    return schema


def _start_run(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    dest: Destination,
    mode: str,
    schema: dict[str, str],
    started: datetime,
) -> ExportResult:
    """Record a running run (earlier runs left running are abandoned); its result."""
    as_of: date | None = None
    if "as_of_date" in schema:
        row = con.execute(f"select max(as_of_date) from {TARGETING}").fetchone()
        as_of = row[0] if row else None
    as_of = as_of or started.date()
    result = ExportResult(
        run_id=new_run_id(started),
        audience=audience.name,
        destination=dest.destination_name,
        format=dest.format,
        mode=mode,
        as_of_date=as_of,
    )
    con.execute(
        f"update {SCHEMA}.audience_runs set status = 'abandoned', finished_at = ? "
        "where audience = ? and destination = ? and status = 'running'",
        [started, audience.name, dest.destination_name],
    )
    con.execute(
        f"insert into {SCHEMA}.audience_runs (run_id, audience, destination, format, mode, "
        "as_of_date, started_at, status) values (?, ?, ?, ?, ?, ?, ?, 'running')",
        [result.run_id, audience.name, dest.destination_name, dest.format, mode, as_of, started],
    )
    return result


def _fail_run(
    con: duckdb.DuckDBPyConnection, result: ExportResult, exc: BaseException, now: datetime
) -> None:
    con.execute(
        f"update {SCHEMA}.audience_runs set status = 'failed', finished_at = ?, error = ? "
        "where run_id = ?",
        [now, _error_text(exc), result.run_id],
    )
    log.warning(
        "export %s of audience %s to %s failed: %s",
        result.run_id,
        result.audience,
        result.destination,
        type(exc).__name__,
    )


def export_audience(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    to: str,
    out_dir: Path | None = None,
    mode: Mode = "delta",
    salt: str = "segmint",
    dsn: str | None = None,
    now: Callable[[], datetime] = utcnow,
) -> ExportResult:
    """Export (or sync) one audience to one destination (a destination name or a format).

    File formats write under `<out_dir>/<audience>/<destination>/`; a postgres destination
    syncs its table (DSN from `dsn` or the env var named by the destination). Raises on
    failure after recording the run as failed; membership state then did not move.
    """
    if mode not in ("full", "delta"):
        raise AudienceError([f"unknown mode {mode!r}; expected full or delta"])
    dest = audience.destination(to)
    if dest.format != "postgres" and out_dir is None:
        raise AudienceError(["an output folder is needed for file exports"])
    ensure_activation_schema(con)
    privacy.prepare(con)
    schema = _check(con, audience, dest)
    started = now()
    result = _start_run(con, audience, dest, mode, schema, started)
    placed: list[Path] = []
    selection: Selection | None = None
    in_transaction = False
    try:
        selection = Selection(con, audience, dest.destination_name, mode, salt, schema)
        for name, value in selection.counts().items():
            setattr(result, name, value)
        if dest.format == "postgres":
            deliver_postgres(selection, result, audience, dest, schema, dsn)
        else:
            assert out_dir is not None
            deliver_files(selection, result, audience, dest, out_dir, placed, started, schema)
        con.begin()
        in_transaction = True
        commit_state(con, result, audience.holdout_share, now())
        con.commit()
        in_transaction = False
        result.status = "success"
    except BaseException as exc:
        if in_transaction:
            con.rollback()
        for path in reversed(placed):
            path.unlink(missing_ok=True)
        _fail_run(con, result, exc, now())
        raise
    finally:
        if selection is not None:
            selection.drop()
    log.info(
        "export %s: audience %s to %s (%s): members=%d holdout=%d exported=%d added=%d removed=%d",
        result.run_id,
        audience.name,
        dest.destination_name,
        mode,
        result.members,
        result.holdout,
        result.exported,
        result.added,
        result.removed,
    )
    return result


def run_audience(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    out_dir: Path,
    mode: Mode = "delta",
    salt: str = "segmint",
) -> list[ExportResult]:
    """Export an audience to every destination it declares (one Dagster asset = this call)."""
    return [
        export_audience(con, audience, d.destination_name, out_dir, mode, salt)
        for d in audience.destinations
    ]
