"""Audience exports and syncs: select, hold out, diff, deliver, then record.

One run = one audience to one destination:

1. select the customers of marts.customer_targeting matching the audience, keeping only
   those with marketing consent who are not erased (ELIGIBLE: the single place this rule
   lives, applied again when rows are read for delivery). Erased means flagged by the mart
   (is_erased) or listed in raw.erasure_ledger itself (ERASED), so a stale or rebuilt
   targeting table can never put an erased customer back into a membership or holdout;
2. split off the holdout (control) group: a deterministic hash of customer id + audience +
   salt below the share, recorded on first sight so nobody ever switches group;
3. diff the exported group against the last successful export to that destination
   (activation.audience_membership): adds and removes;
4. deliver: files written atomically plus a manifest (full: every member; delta: adds and
   removals), or one Postgres transaction;
5. only then commit the new membership state, the per-run member snapshot, the holdout
   assignments and the run's counts in one DuckDB transaction, which also purges whatever
   activation state of ledgered customers is left (purge_erased_rows). A failure anywhere
   before leaves the state untouched (the run is recorded as failed, files removed).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from segmint.activation.audience import (
    TARGETING,
    TARGETING_SCHEMA,
    Audience,
    AudienceError,
    Destination,
    check_audience,
    targeting_columns,
)
from segmint.activation.conditions import compile_condition, quote_ident
from segmint.activation.files import atomic_file, sweep_stale_temps, write_json_atomic
from segmint.activation.formats import FILE_FORMATS, ExportFormat
from segmint.activation.state import (
    SCHEMA,
    ensure_activation_schema,
    load_erased_hashes,
    purge_erased_rows,
    utcnow,
)
from segmint.errors import SegmintError

log = logging.getLogger(__name__)

Mode = Literal["full", "delta"]

# The consent and erasure rule. Every member set and every delivered row passes through it.
# Both read temp table _segmint_erased (ledger hashes, state.load_erased_hashes): the erasure
# ledger is checked directly, not only through the mart's is_erased flag.
ERASED = (
    "(coalesce(t.is_erased, false) or sha256(t.customer_id) in (select h from _segmint_erased))"
)
ELIGIBLE = f"(coalesce(t.marketing_consent, false) and not {ERASED})"
REQUIRED_COLUMNS = ("customer_id", "customer_key", "marketing_consent", "is_erased")
PII_COLUMNS = frozenset({"email", "phone", "first_name", "last_name", "postal_code"})
_HEX15 = float(16**15)


def holdout_bucket(customer_id: str, audience: str, salt: str) -> float:
    """Position in [0, 1) of a customer for an audience; in the holdout when below the share."""
    digest = hashlib.sha256(f"{customer_id}|{audience}|{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / _HEX15


def new_run_id(now: datetime | None = None) -> str:
    """Sortable unique run id: UTC time + random suffix."""
    return f"{(now or utcnow()):%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


@dataclass
class ExportResult:
    """What one export or sync did (also the Dagster metadata of an audience asset)."""

    run_id: str
    audience: str
    destination: str
    format: str
    mode: str
    status: str = "running"
    as_of_date: date | None = None
    matched: int = 0
    members: int = 0
    holdout: int = 0
    exported: int = 0
    added: int = 0
    removed: int = 0
    removed_erased: int = 0
    skipped_no_identifier: int = 0
    excluded_no_consent: int = 0
    excluded_erased: int = 0
    files: list[Path] = field(default_factory=list)
    manifest: Path | None = None
    checksum: str | None = None
    target: str | None = None

    def counts(self) -> dict[str, int]:
        """The integer counters."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and k != "status"}

    def metadata(self) -> dict[str, Any]:
        """JSON-friendly summary (no personal data): counts, files, checksum."""
        return {
            "run_id": self.run_id,
            "audience": self.audience,
            "destination": self.destination,
            "format": self.format,
            "mode": self.mode,
            "status": self.status,
            "as_of_date": self.as_of_date.isoformat() if self.as_of_date else None,
            **self.counts(),
            "files": [str(p) for p in self.files],
            "manifest": str(self.manifest) if self.manifest else None,
            "checksum": self.checksum,
            "target": self.target,
        }


@dataclass
class AudiencePreview:
    """Counts of an audience as it stands now, and a few rows with personal data masked."""

    audience: str
    matched: int
    members: int
    holdout: int
    would_export: int
    excluded_no_consent: int
    excluded_erased: int
    sample: list[dict[str, Any]]


# --------------------------------------------------------------------------- selection


def _require_columns(schema: dict[str, str], columns: list[str], why: str) -> None:
    missing = [c for c in columns if c not in schema]
    if missing:
        raise AudienceError([f"{TARGETING} lacks column(s) {missing} needed by {why}"])


def _model_relation(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    schema, _, table = relation.rpartition(".")
    schema = schema or TARGETING_SCHEMA
    found = con.execute(
        "select count(*) from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? and column_name = 'customer_id'",
        [schema, table],
    ).fetchone()
    if not found or not found[0]:
        raise AudienceError(
            [f"dbt audience relation {relation} does not exist or has no customer_id"]
        )
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _where(
    con: duckdb.DuckDBPyConnection, audience: Audience, schema: dict[str, str]
) -> tuple[str, list[Any]]:
    if audience.conditions is not None:
        return compile_condition(audience.conditions, schema)
    assert audience.model is not None
    relation = _model_relation(con, audience.model)
    return f"t.customer_id in (select customer_id from {relation})", []


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """Result of a query as an arrow table (customer-level sizes: the copy is cheap)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return con.execute(query).to_arrow_table()


class _Selection:
    """Temp tables of one run: matched, members (+holdout), previous, export set, removed."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        audience: Audience,
        destination: str,
        mode: Mode,
        salt: str,
        schema: dict[str, str],
    ) -> None:
        self.con = con
        self.audience = audience
        self.destination = destination
        where, params = _where(con, audience, schema)
        load_erased_hashes(con)
        con.execute(
            f"""
            create or replace temp table _segmint_matched as
            select t.customer_id, t.customer_key,
                   {ELIGIBLE} as eligible,
                   {ERASED} as erased
            from {TARGETING} t
            where t.customer_id is not null and {where}
            """,
            params,
        )
        con.execute(
            f"""
            create or replace temp table _segmint_members as
            with bucketed as (
                select customer_id, customer_key,
                       cast(cast('0x' || left(sha256(customer_id || '|' || ? || '|' || ?), 15)
                            as bigint) as double) / {_HEX15} as bucket
                from _segmint_matched
                where eligible
            )
            select b.customer_id, b.customer_key, b.bucket,
                   coalesce(h.in_holdout, b.bucket < ?) as in_holdout,
                   h.customer_id is null as new_assignment
            from bucketed b
            left join {SCHEMA}.audience_holdout h
                on h.audience = ? and h.customer_id = b.customer_id
            """,
            [audience.name, salt, audience.holdout_share, audience.name],
        )
        con.execute(
            f"""
            create or replace temp table _segmint_prev as
            select customer_id, customer_key
            from {SCHEMA}.audience_membership
            where audience = ? and destination = ? and status = 'active' and not in_holdout
            """,
            [audience.name, destination],
        )
        con.execute(
            f"""
            create or replace temp table _segmint_removed as
            select p.customer_id, p.customer_key,
                   t.customer_id is null or coalesce(t.is_erased, false)
                   or sha256(p.customer_id) in (select h from _segmint_erased) as erased
            from _segmint_prev p
            left join _segmint_members m
                on m.customer_id = p.customer_id and not m.in_holdout
            left join {TARGETING} t on t.customer_id = p.customer_id
            where m.customer_id is null
            """
        )
        only_new = "and p.customer_id is null" if mode == "delta" else ""
        con.execute(
            f"""
            create or replace temp table _segmint_export as
            select m.customer_id
            from _segmint_members m
            left join _segmint_prev p on p.customer_id = m.customer_id
            where not m.in_holdout {only_new}
            """
        )

    def counts(self) -> dict[str, int]:
        """matched / members / holdout / excluded / added / removed counters."""
        row = self.con.execute(
            """
            select
                (select count(*) from _segmint_matched),
                (select count(*) from _segmint_members),
                (select count(*) from _segmint_members where in_holdout),
                (select count(*) from _segmint_matched where not eligible and not erased),
                (select count(*) from _segmint_matched where erased),
                (select count(*) from _segmint_members m
                    where not m.in_holdout
                    and m.customer_id not in (select customer_id from _segmint_prev)),
                (select count(*) from _segmint_removed),
                (select count(*) from _segmint_removed where erased)
            """
        ).fetchone()
        assert row is not None
        keys = (
            "matched",
            "members",
            "holdout",
            "excluded_no_consent",
            "excluded_erased",
            "added",
            "removed",
            "removed_erased",
        )
        return dict(zip(keys, (int(v) for v in row), strict=True))

    def export_rows(self, columns: list[str]) -> pa.Table:
        """Rows to send (full: every exported member; delta: adds), eligible only."""
        cols = ", ".join(f"t.{quote_ident(c)}" for c in columns)
        return _arrow(
            self.con,
            f"""
            select {cols}
            from {TARGETING} t
            join _segmint_export s on s.customer_id = t.customer_id
            where {ELIGIBLE}
            order by t.customer_key, t.customer_id
            """,
        )

    def removal_rows(self, columns: list[str]) -> pa.Table:
        """Identifiers of removed customers that are not erased (erased ones are never sent)."""
        cols = ", ".join(f"t.{quote_ident(c)}" for c in columns)
        return _arrow(
            self.con,
            f"""
            select {cols}
            from {TARGETING} t
            join _segmint_removed r on r.customer_id = t.customer_id
            where not r.erased and not {ERASED}
            order by t.customer_key, t.customer_id
            """,
        )

    def removed_keys(self, key: str, erased: bool) -> list[str]:
        """customer_key / customer_id of removed customers (erased or not)."""
        column = "customer_key" if key == "customer_key" else "customer_id"
        rows = self.con.execute(
            f"select {column} from _segmint_removed where erased = ? and {column} is not null "
            f"order by 1",
            [erased],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def drop(self) -> None:
        """Drop the temp tables."""
        for name in ("matched", "members", "prev", "removed", "export", "erased"):
            self.con.execute(f"drop table if exists _segmint_{name}")


# --------------------------------------------------------------------------- state


def _commit_state(
    con: duckdb.DuckDBPyConnection,
    result: ExportResult,
    audience: Audience,
    destination: str,
    now: datetime,
) -> None:
    aud, dest, run = audience.name, destination, result.run_id
    con.execute(
        f"""
        insert into {SCHEMA}.audience_run_members
        select ?, ?, ?, customer_id, customer_key, in_holdout from _segmint_members
        """,
        [run, aud, dest],
    )
    con.execute(
        f"""
        delete from {SCHEMA}.audience_membership
        where audience = ? and destination = ?
          and customer_id in (select customer_id from _segmint_removed where erased)
        """,
        [aud, dest],
    )
    con.execute(
        f"""
        update {SCHEMA}.audience_membership
        set status = 'removed', run_id = ?, updated_at = ?
        where audience = ? and destination = ? and status = 'active'
          and customer_id not in (select customer_id from _segmint_members)
        """,
        [run, now, aud, dest],
    )
    con.execute(
        f"""
        update {SCHEMA}.audience_membership as m
        set status = 'active',
            in_holdout = s.in_holdout,
            customer_key = s.customer_key,
            run_id = ?,
            updated_at = ?,
            member_since = case when m.status = 'removed' then ? else m.member_since end
        from _segmint_members s
        where m.audience = ? and m.destination = ? and m.customer_id = s.customer_id
        """,
        [run, now, now, aud, dest],
    )
    con.execute(
        f"""
        insert into {SCHEMA}.audience_membership
        select ?, ?, s.customer_id, s.customer_key, ?, ?, 'active', s.in_holdout, ?
        from _segmint_members s
        where s.customer_id not in (
            select customer_id from {SCHEMA}.audience_membership
            where audience = ? and destination = ?
        )
        """,
        [aud, dest, run, now, now, aud, dest],
    )
    con.execute(
        f"""
        insert into {SCHEMA}.audience_holdout
        select ?, customer_id, in_holdout, bucket, ?, ?, ?
        from _segmint_members
        where new_assignment
        """,
        [aud, audience.holdout_share, run, now],
    )
    # Leftovers of erased customers in any audience (history, holdout rows) go in the same
    # transaction; _segmint_members never holds them (ELIGIBLE checks the ledger).
    purge_erased_rows(con)
    con.execute(
        f"""
        update {SCHEMA}.audience_runs
        set status = 'success', finished_at = ?, members = ?, holdout = ?, exported = ?,
            added = ?, removed = ?, removed_erased = ?, skipped_no_identifier = ?,
            excluded_no_consent = ?, excluded_erased = ?, file = ?, checksum = ?, manifest = ?
        where run_id = ?
        """,
        [
            now,
            result.members,
            result.holdout,
            result.exported,
            result.added,
            result.removed,
            result.removed_erased,
            result.skipped_no_identifier,
            result.excluded_no_consent,
            result.excluded_erased,
            str(result.files[0]) if result.files else result.target,
            result.checksum,
            str(result.manifest) if result.manifest else None,
            run,
        ],
    )


# --------------------------------------------------------------------------- delivery


def _deliver_files(
    selection: _Selection,
    result: ExportResult,
    audience: Audience,
    dest: Destination,
    out_dir: Path,
    placed: list[Path],
    started_at: datetime,
) -> None:
    fmt: ExportFormat = FILE_FORMATS[dest.format]
    folder = Path(out_dir) / audience.name / dest.destination_name
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)
    stem = f"{audience.name}__{dest.destination_name}__{result.run_id}"
    role = "members" if result.mode == "full" else "adds"
    entries: list[dict[str, Any]] = []

    data_path = folder / f"{stem}__{role}{fmt.suffix}"
    table = selection.export_rows(fmt.columns(audience, dest))
    with atomic_file(data_path) as (fh, info):
        stats = fmt.write_members(table, fh, audience, dest)
    placed.append(data_path)
    result.exported, result.skipped_no_identifier = stats.rows, stats.skipped
    result.checksum = info.sha256
    entries.append(
        {
            "name": data_path.name,
            "role": role,
            "rows": stats.rows,
            "skipped": stats.skipped,
            "bytes": info.bytes,
            "sha256": info.sha256,
        }
    )

    if result.mode == "delta":
        removal_path = folder / f"{stem}__removals{fmt.suffix}"
        table = selection.removal_rows(fmt.removal_columns(audience, dest))
        with atomic_file(removal_path) as (fh, rinfo):
            rstats = fmt.write_removals(table, fh, audience, dest)
        placed.append(removal_path)
        entries.append(
            {
                "name": removal_path.name,
                "role": "removals",
                "rows": rstats.rows,
                "skipped": rstats.skipped,
                "bytes": rinfo.bytes,
                "sha256": rinfo.sha256,
            }
        )

    manifest_path = folder / f"{stem}.manifest.json"
    result.files = [folder / e["name"] for e in entries]
    payload = {
        "audience": audience.name,
        "description": audience.description,
        "destination": dest.destination_name,
        "format": dest.format,
        "format_spec": fmt.spec,
        "mode": result.mode,
        "replace_list": result.mode == "full",
        "run_id": result.run_id,
        "as_of_date": result.as_of_date,
        "started_at": started_at,
        "written_at": utcnow(),
        "holdout_share": audience.holdout_share,
        "counts": result.counts(),
        "files": entries,
        "checksum": result.checksum,
    }
    write_json_atomic(manifest_path, payload)
    placed.append(manifest_path)
    result.manifest = manifest_path


def _deliver_postgres(
    selection: _Selection,
    result: ExportResult,
    audience: Audience,
    dest: Destination,
    schema: dict[str, str],
    dsn: str | None,
) -> None:
    from segmint.activation.postgres import sync_table

    dsn = dsn or os.environ.get(dest.dsn_env)
    if not dsn:
        raise AudienceError(
            [
                f"{audience.source}: set {dest.dsn_env} to the Postgres connection string "
                f"of destination {dest.destination_name}"
            ]
        )
    key = dest.key
    columns = [key, *[c for c in audience.columns if c != key]]
    _require_columns(schema, columns, f"destination {dest.destination_name}")
    table = selection.export_rows(columns)
    table_name = dest.table or f"segmint_{audience.name}"
    stats = sync_table(
        dsn,
        table_name,
        key=key,
        column_types={c: schema[c] for c in columns},
        rows=table,
        removed_keys=selection.removed_keys(key, erased=False),
        erased_keys=selection.removed_keys(key, erased=True),
        on_remove=dest.on_remove,
        full=result.mode == "full",
        audience=audience.name,
        run_id=result.run_id,
    )
    result.exported = stats.upserted
    result.target = f"postgres:{table_name}"


# --------------------------------------------------------------------------- entry points


def _error_text(exc: BaseException) -> str:
    """What a failed run records: our own messages in full, others by type only (no data)."""
    if isinstance(exc, SegmintError):
        return f"{type(exc).__name__}: {exc}"[:1000]
    return f"{type(exc).__name__} (details in the exception raised to the caller)"


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
    schema = targeting_columns(con)
    problems = check_audience(audience, schema)
    if problems:
        raise AudienceError(problems)
    _require_columns(schema, list(REQUIRED_COLUMNS), "every export")
    if dest.format != "postgres":
        fmt = FILE_FORMATS[dest.format]
        _require_columns(
            schema,
            sorted(set(fmt.columns(audience, dest)) | set(fmt.removal_columns(audience, dest))),
            f"format {dest.format}",
        )

    started = now()
    as_of = None
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
    placed: list[Path] = []
    selection: _Selection | None = None
    in_transaction = False
    try:
        selection = _Selection(con, audience, dest.destination_name, mode, salt, schema)
        for name, value in selection.counts().items():
            setattr(result, name, value)
        if dest.format == "postgres":
            _deliver_postgres(selection, result, audience, dest, schema, dsn)
        else:
            assert out_dir is not None
            _deliver_files(selection, result, audience, dest, out_dir, placed, started)
        con.begin()
        in_transaction = True
        _commit_state(con, result, audience, dest.destination_name, now())
        con.commit()
        in_transaction = False
        result.status = "success"
    except BaseException as exc:
        if in_transaction:
            con.rollback()
        for path in reversed(placed):
            path.unlink(missing_ok=True)
        con.execute(
            f"update {SCHEMA}.audience_runs set status = 'failed', finished_at = ?, error = ? "
            "where run_id = ?",
            [now(), _error_text(exc), result.run_id],
        )
        log.warning(
            "export %s of audience %s to %s failed: %s",
            result.run_id,
            audience.name,
            dest.destination_name,
            type(exc).__name__,
        )
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


def preview_audience(
    con: duckdb.DuckDBPyConnection, audience: Audience, salt: str = "segmint", limit: int = 10
) -> AudiencePreview:
    """Counts and a masked sample of who would be exported now; changes no state."""
    schema = targeting_columns(con)
    problems = check_audience(audience, schema)
    if problems:
        raise AudienceError(problems)
    _require_columns(schema, list(REQUIRED_COLUMNS), "every export")
    where, params = _where(con, audience, schema)
    has_holdout = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = 'audience_holdout'",
        [SCHEMA],
    ).fetchone()
    recorded = (
        f"(select in_holdout from {SCHEMA}.audience_holdout h "
        "where h.audience = ? and h.customer_id = t.customer_id)"
        if has_holdout and has_holdout[0]
        else "cast(null as boolean)"
    )
    hold_params = [audience.name] if has_holdout and has_holdout[0] else []
    bucket = (
        f"cast(cast('0x' || left(sha256(t.customer_id || '|' || ? || '|' || ?), 15) as bigint) "
        f"as double) / {_HEX15}"
    )
    shown = ["customer_key", *[c for c in audience.columns if c != "customer_key"]]
    cols = ", ".join(f"t.{quote_ident(c)}" for c in shown)
    base = f"""
        with matched as (
            select t.*, {ELIGIBLE} as _eligible, {ERASED} as _erased,
                   coalesce({recorded}, {bucket} < ?) as _holdout
            from {TARGETING} t
            where t.customer_id is not null and {where}
        )
    """
    base_params = [*hold_params, audience.name, salt, audience.holdout_share, *params]
    load_erased_hashes(con)
    try:
        return _preview(con, audience, base, base_params, cols, limit)
    finally:
        con.execute("drop table if exists _segmint_erased")


def _preview(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    base: str,
    base_params: list[Any],
    cols: str,
    limit: int,
) -> AudiencePreview:
    row = con.execute(
        base
        + """
        select count(*),
               count(*) filter (where _eligible),
               count(*) filter (where _eligible and _holdout),
               count(*) filter (where not _eligible and not _erased),
               count(*) filter (where _erased)
        from matched
        """,
        base_params,
    ).fetchone()
    assert row is not None
    sample_cursor = con.execute(
        base
        + f"""
        select {cols} from matched t
        where _eligible and not _holdout
        order by t.customer_key limit {int(limit)}
        """,
        base_params,
    )
    names = [d[0] for d in sample_cursor.description]
    sample = [
        {
            k: ("***" if k in PII_COLUMNS and v is not None else v)
            for k, v in zip(names, r, strict=True)
        }
        for r in sample_cursor.fetchall()
    ]
    matched, members, holdout, no_consent, erased = (int(v) for v in row)
    return AudiencePreview(
        audience=audience.name,
        matched=matched,
        members=members,
        holdout=holdout,
        would_export=members - holdout,
        excluded_no_consent=no_consent,
        excluded_erased=erased,
        sample=sample,
    )
