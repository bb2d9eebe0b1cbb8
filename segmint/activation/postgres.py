"""Sync an audience into a PostgreSQL table in one transaction (psycopg 3).

The table has the key column as primary key, the audience's columns, and bookkeeping
columns segmint_audience, segmint_run_id, segmint_synced_at, segmint_is_member and
segmint_removed_at. Members are upserted (INSERT ... ON CONFLICT on the key); removed
members are deleted or flagged (`on_remove`); erased customers are always deleted. In full
mode every row not in the current member set counts as removed, so the table converges to
the audience whatever happened before. Re-running the same sync changes nothing but the
bookkeeping timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from segmint.activation.formats import iter_rows

BOOKKEEPING = (
    ("segmint_audience", "text"),
    ("segmint_run_id", "text"),
    ("segmint_synced_at", "timestamptz"),
    ("segmint_is_member", "boolean"),
    ("segmint_removed_at", "timestamptz"),
)


@dataclass(frozen=True)
class SyncStats:
    """Rows upserted, deleted and flagged by one sync."""

    upserted: int
    deleted: int
    flagged: int


def pg_type(duckdb_type: str) -> str:
    """PostgreSQL column type for a DuckDB type."""
    t = duckdb_type.upper()
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "UTINYINT", "USMALLINT"):
        return "bigint"
    if t in ("UINTEGER", "UBIGINT", "HUGEINT", "UHUGEINT") or t.startswith(("DECIMAL", "NUMERIC")):
        return "numeric"
    if t in ("FLOAT", "REAL", "DOUBLE"):
        return "double precision"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "timestamptz"
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return "timestamp"
    return "text"


def _split(table: str) -> tuple[str, ...]:
    return tuple(table.split(".", 1)) if "." in table else (table,)


def sync_table(
    dsn: str,
    table: str,
    key: str,
    column_types: dict[str, str],
    rows: pa.Table,
    removed_keys: Iterable[str],
    erased_keys: Iterable[str],
    on_remove: str = "delete",
    full: bool = False,
    audience: str = "",
    run_id: str = "",
) -> SyncStats:
    """Upsert `rows` into `table` and delete/flag removed keys, all in one transaction."""
    import psycopg
    from psycopg import sql

    if on_remove not in ("delete", "flag"):
        raise ValueError(f"on_remove must be delete or flag, not {on_remove!r}")
    parts = _split(table)
    target = sql.Identifier(*parts)
    columns = list(column_types)
    if columns[0] != key:
        raise ValueError("the key must be the first column")
    removed = sorted(set(removed_keys))
    erased = sorted(set(erased_keys))
    with psycopg.connect(dsn) as conn, conn.transaction():
        cur = conn.cursor()
        if len(parts) == 2:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(parts[0])))
        defs = [
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(pg_type(column_types[c])))
            for c in columns
        ]
        defs[0] = sql.SQL("{} text primary key").format(sql.Identifier(key))
        defs += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in BOOKKEEPING]
        cur.execute(
            sql.SQL("create table if not exists {} ({})").format(target, sql.SQL(", ").join(defs))
        )
        for name, pgtype in [(c, pg_type(column_types[c])) for c in columns[1:]] + list(
            BOOKKEEPING
        ):
            cur.execute(
                sql.SQL("alter table {} add column if not exists {} {}").format(
                    target, sql.Identifier(name), sql.SQL(pgtype)
                )
            )
        cur.execute(
            sql.SQL("create temp table _segmint_stage ({}) on commit drop").format(
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(
                        sql.Identifier(c), sql.SQL("text" if c == key else pg_type(column_types[c]))
                    )
                    for c in columns
                )
            )
        )
        col_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        with cur.copy(sql.SQL("copy _segmint_stage ({}) from stdin").format(col_list)) as copy:
            for row in iter_rows(rows):
                copy.write_row([_pg_value(row[c]) for c in columns])
        updates = [
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
            for c in [*columns[1:], "segmint_audience", "segmint_run_id", "segmint_synced_at"]
        ]
        updates += [
            sql.SQL("segmint_is_member = true"),
            sql.SQL("segmint_removed_at = null"),
        ]
        cur.execute(
            sql.SQL(
                "insert into {t} ({cols}, segmint_audience, segmint_run_id, segmint_synced_at, "
                "segmint_is_member, segmint_removed_at) "
                "select {cols}, %s, %s, now(), true, null from _segmint_stage "
                "on conflict ({k}) do update set {updates}"
            ).format(
                t=target, cols=col_list, k=sql.Identifier(key), updates=sql.SQL(", ").join(updates)
            ),
            [audience, run_id],
        )
        upserted = cur.rowcount
        if full:
            cur.execute(
                sql.SQL(
                    "select {k} from {t} where {k} not in "
                    "(select {k} from _segmint_stage where {k} is not null)"
                ).format(k=sql.Identifier(key), t=target)
            )
            removed = sorted((set(removed) | {str(r[0]) for r in cur.fetchall()}) - set(erased))
        deleted = flagged = 0
        if erased:
            cur.execute(
                sql.SQL("delete from {t} where {k} = any(%s)").format(
                    t=target, k=sql.Identifier(key)
                ),
                [erased],
            )
            deleted += cur.rowcount
        if removed:
            if on_remove == "delete":
                cur.execute(
                    sql.SQL("delete from {t} where {k} = any(%s)").format(
                        t=target, k=sql.Identifier(key)
                    ),
                    [removed],
                )
                deleted += cur.rowcount
            else:
                cur.execute(
                    sql.SQL(
                        "update {t} set segmint_is_member = false, segmint_removed_at = now(), "
                        "segmint_run_id = %s where {k} = any(%s) and segmint_is_member"
                    ).format(t=target, k=sql.Identifier(key)),
                    [run_id, removed],
                )
                flagged += cur.rowcount
    return SyncStats(upserted=upserted, deleted=deleted, flagged=flagged)


def _pg_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
