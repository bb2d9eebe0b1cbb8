"""Tables of schema `activation`: export runs, membership (current and per run), holdout.

No contact data is stored here: customers are identified by customer_id and the
pseudonymous customer_key only; an erased customer's pending membership holds the hashes
its removal needs at the destination (erasure_hashes, written by `segmint forget`).
commit_state moves the state of one export forward in one transaction, after its delivery
succeeded; purge_erased drops erased customers' rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from segmint import privacy
from segmint.privacy import keyed_sql, load_erased_hashes

SCHEMA = "activation"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""
    create table if not exists {SCHEMA}.audience_runs (
        run_id varchar not null,
        audience varchar not null,
        destination varchar not null,
        format varchar not null,
        mode varchar not null,
        as_of_date date,
        started_at timestamp not null,
        finished_at timestamp,
        status varchar not null,          -- running / success / failed / abandoned
        members bigint,                   -- eligible matching customers (incl. holdout)
        holdout bigint,                   -- of which in the control group (never exported)
        exported bigint,                  -- rows sent (full: all non-holdout; delta: adds)
        added bigint,
        removed bigint,
        removed_erased bigint,            -- removals of erased customers (no identifiers sent)
        skipped_no_identifier bigint,     -- members the destination cannot take (no email...)
        excluded_no_consent bigint,       -- matched the conditions but no marketing consent
        excluded_erased bigint,           -- matched the conditions but erased
        file varchar,
        checksum varchar,
        manifest varchar,
        error varchar
    )
    """,
    f"""
    create table if not exists {SCHEMA}.audience_membership (
        audience varchar not null,
        destination varchar not null,
        customer_id varchar not null,
        customer_key varchar,
        run_id varchar not null,          -- last successful run that touched the row
        member_since timestamp not null,
        status varchar not null,          -- active / removed
        in_holdout boolean not null,
        updated_at timestamp not null,
        erasure_hashes varchar            -- set by forget: hashes the removal needs (JSON)
    )
    """,
    # Warehouses made before erasure_hashes existed.
    f"alter table {SCHEMA}.audience_membership add column if not exists erasure_hashes varchar",
    f"""
    create table if not exists {SCHEMA}.audience_run_members (
        run_id varchar not null,
        audience varchar not null,
        destination varchar not null,
        customer_id varchar not null,
        customer_key varchar,
        in_holdout boolean not null
    )
    """,
    f"""
    create table if not exists {SCHEMA}.audience_holdout (
        audience varchar not null,
        customer_id varchar not null,
        in_holdout boolean not null,
        bucket double not null,           -- hash position in [0, 1); holdout when < share
        share double not null,
        assigned_run_id varchar not null,
        assigned_at timestamp not null
    )
    """,
)


@dataclass
class ExportResult:
    """What one export or sync did: a row of activation.audience_runs (also the Dagster
    metadata of an audience asset)."""

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
    removals_sent: int = 0  # rows of the removals (and erasures) files
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


def ensure_activation_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema activation and its tables when missing."""
    for statement in DDL:
        con.execute(statement)


def utcnow() -> datetime:
    """Naive UTC timestamp (how the warehouse stores times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def last_runs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest run per audience and destination (for `segmint audiences list`)."""
    ensure_activation_schema(con)
    cursor = con.execute(
        f"""
        select audience, destination, format, mode, run_id, status, started_at, finished_at,
               members, holdout, exported, added, removed, file
        from {SCHEMA}.audience_runs
        qualify row_number() over (
            partition by audience, destination order by started_at desc, run_id desc
        ) = 1
        order by audience, destination
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Rows of erased customers that go at once. A current exported membership (active, not in
# the holdout) stays until an export has processed its removal for that destination (the
# export then deletes it), so a Postgres sync can still delete the synced row.
_PURGED = (
    ("audience_membership", " and (status = 'removed' or in_holdout)"),
    ("audience_run_members", ""),
    ("audience_holdout", ""),
)


def purge_erased_rows(con: duckdb.DuckDBPyConnection) -> int:
    """Delete activation rows of customers in _segmint_erased (caller owns the transaction).

    Hashes each distinct customer_id once (not every row of the growing run history).
    """
    total = 0
    for table, extra in _PURGED:
        row = con.execute(
            f"""
            delete from {SCHEMA}.{table}
            where customer_id in (
                select d.customer_id
                from (select distinct customer_id from {SCHEMA}.{table}) d
                where {keyed_sql("d.customer_id")} in (select h from _segmint_erased)
            ){extra}
            """
        ).fetchone()
        total += int(row[0]) if row else 0
    return total


def purge_erased(con: duckdb.DuckDBPyConnection, transaction: bool = True) -> int:
    """Drop activation rows of customers in raw.erasure_ledger; returns rows deleted.

    History (per-run members, holdout assignments, removed memberships) and holdout
    memberships (never sent anywhere) go at once; a current exported membership stays until
    an export has sent the customer's removal to that destination (the export then deletes
    it). Every export purges the same way inside its state transaction (purge_erased_rows),
    so leftovers of erased customers (tables restored from an older backup, state written
    by an older version) never survive a pipeline run. With transaction=False the caller
    owns the transaction (segmint forget purges inside its own).
    """
    ensure_activation_schema(con)
    if transaction:
        privacy.prepare(con)
    if not load_erased_hashes(con):
        con.execute("drop table if exists _segmint_erased")
        return 0
    if transaction:
        con.begin()
    try:
        total = purge_erased_rows(con)
        if transaction:
            con.commit()
    except BaseException:
        if transaction:
            con.rollback()
        raise
    con.execute("drop table if exists _segmint_erased")
    return total


# --------------------------------------------------------------------------- commit


def _record_members(con: duckdb.DuckDBPyConnection, run: str, aud: str, dest: str) -> None:
    """The run's member snapshot, and erased removals dropped from the membership."""
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


def _update_membership(
    con: duckdb.DuckDBPyConnection, run: str, aud: str, dest: str, now: datetime
) -> None:
    """Mark leavers removed, refresh members still (or again) in, insert newcomers."""
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
        insert into {SCHEMA}.audience_membership (audience, destination, customer_id,
            customer_key, run_id, member_since, status, in_holdout, updated_at)
        select ?, ?, s.customer_id, s.customer_key, ?, ?, 'active', s.in_holdout, ?
        from _segmint_members s
        where s.customer_id not in (
            select customer_id from {SCHEMA}.audience_membership
            where audience = ? and destination = ?
        )
        """,
        [aud, dest, run, now, now, aud, dest],
    )


def _finish_run(con: duckdb.DuckDBPyConnection, result: ExportResult, now: datetime) -> None:
    """The run's counts, file and checksum; status success."""
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
            result.run_id,
        ],
    )


def commit_state(
    con: duckdb.DuckDBPyConnection,
    result: ExportResult,
    holdout_share: float,
    now: datetime,
) -> None:
    """Record a delivered export from the selection's temp tables (caller's transaction):
    member snapshot, membership, new holdout assignments, erased leftovers, run counts."""
    aud, dest, run = result.audience, result.destination, result.run_id
    _record_members(con, run, aud, dest)
    _update_membership(con, run, aud, dest, now)
    con.execute(
        f"""
        insert into {SCHEMA}.audience_holdout
        select ?, customer_id, in_holdout, bucket, ?, ?, ?
        from _segmint_members
        where new_assignment
        """,
        [aud, holdout_share, run, now],
    )
    # Leftovers of erased customers in any audience (history, holdout rows) go in the same
    # transaction; _segmint_members never holds them (ELIGIBLE checks the ledger).
    purge_erased_rows(con)
    _finish_run(con, result, now)
