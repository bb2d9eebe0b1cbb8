"""Tables of schema `activation`: export runs, membership (current and per run), holdout.

No contact data is stored here: customers are identified by customer_id and the
pseudonymous customer_key only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

SCHEMA = "activation"
# Written by segmint forget: lower-case hex sha256 of each erased trimmed customer_id.
ERASURE_LEDGER = "raw.erasure_ledger"

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
        updated_at timestamp not null
    )
    """,
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


def has_erasure_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether raw.erasure_ledger exists (ingest creates it; absent in a bare connection)."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'raw' and table_name = 'erasure_ledger'"
    ).fetchone()
    return bool(row and row[0])


def load_erased_hashes(con: duckdb.DuckDBPyConnection) -> int:
    """Fill temp table _segmint_erased(h) with the ledger's customer id hashes; returns rows.

    The ledger holds lower-case hex sha256 of the trimmed customer_id (see segmint.erasure),
    so `sha256(customer_id) in (select h from _segmint_erased)` tells an erased customer.
    """
    con.execute("create or replace temp table _segmint_erased (h varchar)")
    if has_erasure_ledger(con):
        con.execute(
            f"""
            insert into _segmint_erased
            select distinct lower(customer_id_hash) from {ERASURE_LEDGER}
            where customer_id_hash is not null
            """
        )
    row = con.execute("select count(*) from _segmint_erased").fetchone()
    return int(row[0]) if row else 0


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
                where sha256(d.customer_id) in (select h from _segmint_erased)
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
