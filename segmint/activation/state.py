"""Tables of schema `activation`: export runs, membership (current and per run), holdout.

No contact data is stored here: customers are identified by customer_id and the
pseudonymous customer_key only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

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
    f"""
    create table if not exists {SCHEMA}.holdout_readout (
        audience varchar not null,
        destination varchar not null,
        run_id varchar not null,
        as_of_date date not null,
        window_days integer not null,
        window_end date not null,
        window_complete boolean not null, -- orders data reaches window_end
        exported_members bigint not null,
        holdout_members bigint not null,
        exported_purchasers bigint not null,
        holdout_purchasers bigint not null,
        exported_purchase_rate double,
        holdout_purchase_rate double,
        purchase_rate_uplift double,      -- exported - holdout
        purchase_rate_ci_low double,      -- 95% normal approximation
        purchase_rate_ci_high double,
        exported_revenue_per_member double,
        holdout_revenue_per_member double,
        revenue_uplift double,            -- exported - holdout, per member
        revenue_ci_low double,            -- 95% Welch / normal approximation
        revenue_ci_high double,
        computed_at timestamp not null
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


def purge_erased(con: duckdb.DuckDBPyConnection) -> int:
    """Drop activation rows of customers in raw.erasure_ledger; returns rows deleted.

    History (per-run members, holdout assignments) goes at once; a current membership row
    stays until an export has processed the customer's removal for that destination (the
    export then deletes it), so a Postgres sync can still delete the synced row.
    """
    ensure_activation_schema(con)
    exists = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'raw' and table_name = 'erasure_ledger'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    erased = "(select lower(customer_id_hash) from raw.erasure_ledger)"
    total = 0
    con.begin()
    try:
        for table, extra in (
            ("audience_membership", " and status = 'removed'"),
            ("audience_run_members", ""),
            ("audience_holdout", ""),
        ):
            row = con.execute(
                f"delete from {SCHEMA}.{table} where sha256(customer_id) in {erased}{extra}"
            ).fetchone()
            total += int(row[0]) if row else 0
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return total
