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

from segmint.activation.formats.base import iter_rows

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


@dataclass(frozen=True)
class _Target:
    """The synced table: its identifier, key and columns (key first) with DuckDB types."""

    parts: tuple[str, ...]
    key: str
    column_types: dict[str, str]

    @property
    def columns(self) -> list[str]:
        return list(self.column_types)


def _ensure_table(cur: Any, sql: Any, target: _Target) -> None:
    """Create the table (and schema) when missing; add columns the audience gained."""
    ident = sql.Identifier(*target.parts)
    if len(target.parts) == 2:
        cur.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(target.parts[0]))
        )
    types = [(c, pg_type(target.column_types[c])) for c in target.columns]
    defs = [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in types]
    defs[0] = sql.SQL("{} text primary key").format(sql.Identifier(target.key))
    defs += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in BOOKKEEPING]
    cur.execute(
        sql.SQL("create table if not exists {} ({})").format(ident, sql.SQL(", ").join(defs))
    )
    for name, pgtype in types[1:] + list(BOOKKEEPING):
        cur.execute(
            sql.SQL("alter table {} add column if not exists {} {}").format(
                ident, sql.Identifier(name), sql.SQL(pgtype)
            )
        )


def _stage_rows(cur: Any, sql: Any, target: _Target, rows: pa.Table) -> None:
    """COPY the members into temp table _segmint_stage (dropped at commit)."""
    staged = [
        sql.SQL("{} {}").format(
            sql.Identifier(c),
            sql.SQL("text" if c == target.key else pg_type(target.column_types[c])),
        )
        for c in target.columns
    ]
    cur.execute(
        sql.SQL("create temp table _segmint_stage ({}) on commit drop").format(
            sql.SQL(", ").join(staged)
        )
    )
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in target.columns)
    with cur.copy(sql.SQL("copy _segmint_stage ({}) from stdin").format(col_list)) as copy:
        for row in iter_rows(rows):
            copy.write_row([_pg_value(row[c]) for c in target.columns])


def _upsert(cur: Any, sql: Any, target: _Target, audience: str, run_id: str) -> int:
    """Insert or update every staged member (member again, not removed); rows upserted."""
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in target.columns)
    updates = [
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
        for c in [*target.columns[1:], "segmint_audience", "segmint_run_id", "segmint_synced_at"]
    ]
    updates += [sql.SQL("segmint_is_member = true"), sql.SQL("segmint_removed_at = null")]
    cur.execute(
        sql.SQL(
            "insert into {t} ({cols}, segmint_audience, segmint_run_id, segmint_synced_at, "
            "segmint_is_member, segmint_removed_at) "
            "select {cols}, %s, %s, now(), true, null from _segmint_stage "
            "on conflict ({k}) do update set {updates}"
        ).format(
            t=sql.Identifier(*target.parts),
            cols=col_list,
            k=sql.Identifier(target.key),
            updates=sql.SQL(", ").join(updates),
        ),
        [audience, run_id],
    )
    return cur.rowcount


def _not_staged(cur: Any, sql: Any, target: _Target) -> set[str]:
    """Keys in the table that are not in the current member set (full mode removes them)."""
    cur.execute(
        sql.SQL(
            "select {k} from {t} where {k} not in "
            "(select {k} from _segmint_stage where {k} is not null)"
        ).format(k=sql.Identifier(target.key), t=sql.Identifier(*target.parts))
    )
    return {str(r[0]) for r in cur.fetchall()}


def _delete(cur: Any, sql: Any, target: _Target, keys: list[str]) -> int:
    if not keys:
        return 0
    cur.execute(
        sql.SQL("delete from {t} where {k} = any(%s)").format(
            t=sql.Identifier(*target.parts), k=sql.Identifier(target.key)
        ),
        [keys],
    )
    return cur.rowcount


def _flag(cur: Any, sql: Any, target: _Target, keys: list[str], run_id: str) -> int:
    if not keys:
        return 0
    cur.execute(
        sql.SQL(
            "update {t} set segmint_is_member = false, segmint_removed_at = now(), "
            "segmint_run_id = %s where {k} = any(%s) and segmint_is_member"
        ).format(t=sql.Identifier(*target.parts), k=sql.Identifier(target.key)),
        [run_id, keys],
    )
    return cur.rowcount


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
    # psycopg (about 0.2 s to import) is only needed by audiences with a postgres destination.
    import psycopg
    from psycopg import sql

    if on_remove not in ("delete", "flag"):
        raise ValueError(f"on_remove must be delete or flag, not {on_remove!r}")
    target = _Target(_split(table), key, dict(column_types))
    if target.columns[0] != key:
        raise ValueError("the key must be the first column")
    removed = sorted(set(removed_keys))
    erased = sorted(set(erased_keys))
    with psycopg.connect(dsn) as conn, conn.transaction():
        cur = conn.cursor()
        _ensure_table(cur, sql, target)
        _stage_rows(cur, sql, target, rows)
        upserted = _upsert(cur, sql, target, audience, run_id)
        if full:
            removed = sorted((set(removed) | _not_staged(cur, sql, target)) - set(erased))
        deleted = _delete(cur, sql, target, erased)
        flagged = 0
        if on_remove == "delete":
            deleted += _delete(cur, sql, target, removed)
        else:
            flagged = _flag(cur, sql, target, removed, run_id)
    return SyncStats(upserted=upserted, deleted=deleted, flagged=flagged)


def _pg_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
