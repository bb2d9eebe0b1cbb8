"""The published snapshot: analyst-facing schemas copied to a new file and swapped in atomically."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmint import privacy
from segmint.catalog import list_tables, table_columns
from segmint.fs import fsync_dir, pid_alive
from segmint.project import dbt_manifest
from segmint.warehouse.connection import connect
from segmint.warehouse.docs import comment_table, working_docs
from segmint.warehouse.manifest import MANIFEST_TABLE

# What analysts see: marts, model outputs and activation summaries (never raw, staging or
# _segmint, where the identifier hash key lives).
PUBLISHED_SCHEMAS = ("marts", "ml", "activation")


def _dead_temps(published: Path) -> list[Path]:
    """Temp snapshots (and their WAL) left by publish processes that were killed."""
    dead = []
    for p in published.parent.glob(f"{published.name}.tmp-*"):
        pid = p.name.rsplit("tmp-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            dead.append(p)
    return dead


def published_columns(cols: list[str]) -> list[str]:
    """The select list of a published table: no contact columns, and the pseudonym
    `customer_key` (the keyed hash of customer_id) in place of `customer_id`, so every
    published table joins on the same key and no shop customer id reaches analysts."""
    lower = {c.lower() for c in cols}
    out = []
    for c in cols:
        name = c.lower()
        if name in privacy.PII_COLUMNS:
            continue
        quoted = f'"{c}"'
        if name == "customer_id":
            if "customer_key" not in lower:
                out.append(f"{privacy.keyed_sql(quoted)} as customer_key")
            continue
        out.append(quoted)
    return out


def _copy_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, erased: bool) -> int:
    """Copy one table into pub without contact columns, customer ids (customer_key instead)
    or erased people's rows; its rows."""
    cols = list(table_columns(con, schema, table))
    select = ", ".join(published_columns(cols))
    relation = f'"{schema}"."{table}"'
    # Rows of erased people that wait in the working warehouse (memberships kept until the
    # vendor removal is sent) never reach analysts.
    where = privacy.erased_rows_filter(relation, cols, active=erased)
    con.execute(f'create schema if not exists pub."{schema}"')
    con.execute(f'create table pub."{schema}"."{table}" as select {select} from {relation}{where}')
    (n,) = con.execute(f'select count(*) from pub."{schema}"."{table}"').fetchone()
    return int(n)


def _write_manifest(con: duckdb.DuckDBPyConnection, counts: dict[str, int], run_id: str) -> None:
    con.execute("create schema pub._segmint")
    con.execute(
        f"create table pub.{MANIFEST_TABLE} (table_name varchar, row_count bigint, "
        "run_id varchar, published_at timestamp)"
    )
    con.execute(
        f"comment on table pub.{MANIFEST_TABLE} is 'Rows per published table of this snapshot, "
        "with the run that published it.'"
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.executemany(
        f"insert into pub.{MANIFEST_TABLE} values (?, ?, ?, ?)",
        [(name, n, run_id, now) for name, n in counts.items()],
    )


def _fill(
    con: duckdb.DuckDBPyConnection, tmp: Path, schemas: tuple[str, ...], run_id: str, dbt: Path
):
    """Write every published table and the manifest into the file `tmp`; rows per table.
    `dbt` is the warehouse's dbt manifest (column descriptions passed through models)."""
    privacy.prepare(con)
    erased = privacy.ledger_has_rows(con)
    counts: dict[str, int] = {}
    docs = working_docs(con, schemas, dbt)  # dbt's persisted comments, the tables.yml files
    con.execute(f"attach '{tmp}' as pub")
    try:
        for schema, table in list_tables(con, schemas):
            counts[f"{schema}.{table}"] = _copy_table(con, schema, table, erased)
            comment_table(con, docs, "pub", schema, table)
        _write_manifest(con, counts, run_id)
        con.execute("checkpoint pub")
    finally:
        con.execute("detach pub")
    return counts


def publish(
    warehouse: Path,
    published: Path,
    run_id: str = "manual",
    schemas: tuple[str, ...] = PUBLISHED_SCHEMAS,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, int]:
    """Copy analyst-facing schemas into a new file and atomically swap it in place.

    Writes `<published>.tmp-<pid>`, fsyncs it, renames it over `published` and fsyncs the
    folder, so a reader sees either the previous snapshot or the new one, never a mix.
    Leaves out contact columns and rows of customers in the erasure ledger. Reads through
    `con` when given (a caller already holding the warehouse, as `forget` does), else opens
    `warehouse`. Returns rows per published table (also stored in `_segmint.manifest`).
    """
    published = Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f"{published.name}.tmp-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}.wal"), *_dead_temps(published)):
        leftover.unlink(missing_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            if con is None:
                con = stack.enter_context(connect(warehouse))
            counts = _fill(con, tmp, schemas, run_id, dbt_manifest(Path(warehouse)))
        fsync_dir(tmp)
        os.replace(tmp, published)
        fsync_dir(published.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return counts
