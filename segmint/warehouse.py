"""DuckDB file helpers: short-lived connections and the atomic publish of a read-only snapshot."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmint.activation.files import fsync_dir, pid_alive
from segmint.errors import SegmintError

try:  # POSIX advisory locks; elsewhere exclusive_use only documents intent
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml", "activation")
# What analysts see: marts, model outputs and activation summaries.
PUBLISHED_SCHEMAS = ("marts", "ml", "activation")
# Contact fields stay in the working warehouse (exports need them); never published.
PII_COLUMNS = frozenset({"email", "phone", "first_name", "last_name", "postal_code"})
MANIFEST_TABLE = "_segmint.manifest"
# One row per erased person: lower-case hex sha256 of the trimmed customer_id (segmint/ingest.py).
ERASURE_LEDGER = "raw.erasure_ledger"


def erased_customers_filter(columns: list[str] | set[str]) -> str:
    """A WHERE clause that drops rows of customers in the erasure ledger ('' when the table
    has no customer_id column)."""
    if "customer_id" not in columns:
        return ""
    return (
        " where customer_id is null or sha256(trim(cast(customer_id as varchar))) "
        f"not in (select lower(customer_id_hash) from {ERASURE_LEDGER})"
    )


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a DuckDB connection and always close it (one writer at a time)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


class WarehouseBusy(SegmintError):
    """Another segmint process (a pipeline run or an erasure) is using the warehouse."""


@contextlib.contextmanager
def exclusive_use(
    warehouse: Path,
    purpose: str,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `<warehouse>.lock` (an flock, released by the kernel even on SIGKILL) for a whole
    pipeline run or erasure, so neither starts while the other is between two connections.

    DuckDB's own file lock only covers one open connection; a run opens and closes the file
    step by step (dbt in a subprocess), so `forget` could slip in between two steps and a run
    could fail on a lock `forget` holds. Waits up to `wait_seconds` (calling `on_wait` with
    what holds it once), then raises WarehouseBusy.
    """
    lock_path = Path(warehouse).with_name(f"{Path(warehouse).name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the duration of the block
    try:
        if fcntl is not None:
            deadline = time.monotonic() + wait_seconds
            told = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    handle.seek(0)
                    holder = handle.read().strip() or "another segmint process"
                    if time.monotonic() >= deadline:
                        raise WarehouseBusy(f"{warehouse} is in use by {holder}") from None
                    if on_wait is not None and not told:
                        on_wait(holder)
                        told = True
                    time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{purpose} (pid {os.getpid()})\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _dead_temps(published: Path) -> list[Path]:
    """Temp snapshots (and their WAL) left by publish processes that were killed."""
    dead = []
    for p in published.parent.glob(f"{published.name}.tmp-*"):
        pid = p.name.rsplit("tmp-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            dead.append(p)
    return dead


def list_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """(schema, table) pairs of base tables and views in the given schemas, sorted."""
    marks = ",".join("?" for _ in schemas)
    rows = con.execute(
        f"""
        select table_schema, table_name from information_schema.tables
        where table_catalog = current_database() and table_schema in ({marks})
        order by 1, 2
        """,
        list(schemas),
    ).fetchall()
    return [(s, t) for s, t in rows]


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
    counts: dict[str, int] = {}
    try:
        with contextlib.ExitStack() as stack:
            if con is None:
                con = stack.enter_context(connect(warehouse))
            has_ledger = ("raw", "erasure_ledger") in list_tables(con, ("raw",))
            con.execute(f"attach '{tmp}' as pub")
            try:
                for schema, table in list_tables(con, schemas):
                    cols = [
                        r[0]
                        for r in con.execute(
                            "select column_name from information_schema.columns "
                            "where table_catalog = current_database() and table_schema = ? "
                            "and table_name = ? order by ordinal_position",
                            [schema, table],
                        ).fetchall()
                    ]
                    keep = [c for c in cols if c.lower() not in PII_COLUMNS]
                    select = ", ".join(f'"{c}"' for c in keep)
                    # Rows of erased people that wait in the working warehouse (memberships
                    # kept until the vendor removal is sent) never reach analysts.
                    where = erased_customers_filter(cols) if has_ledger else ""
                    con.execute(f'create schema if not exists pub."{schema}"')
                    con.execute(
                        f'create table pub."{schema}"."{table}" as '
                        f'select {select} from "{schema}"."{table}"{where}'
                    )
                    (n,) = con.execute(f'select count(*) from pub."{schema}"."{table}"').fetchone()
                    counts[f"{schema}.{table}"] = int(n)
                con.execute("create schema pub._segmint")
                con.execute(
                    "create table pub._segmint.manifest (table_name varchar, row_count bigint, "
                    "run_id varchar, published_at timestamp)"
                )
                now = datetime.now(UTC).replace(tzinfo=None)
                con.executemany(
                    "insert into pub._segmint.manifest values (?, ?, ?, ?)",
                    [(name, n, run_id, now) for name, n in counts.items()],
                )
                con.execute("checkpoint pub")
            finally:
                con.execute("detach pub")
        fsync_dir(tmp)
        os.replace(tmp, published)
        fsync_dir(published.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return counts


def read_manifest(published: Path) -> dict[str, int]:
    """Rows per table recorded in a published file's manifest."""
    with connect(published, read_only=True) as con:
        rows = con.execute("select table_name, row_count from _segmint.manifest").fetchall()
    return {name: int(n) for name, n in rows}


def verify_published(published: Path) -> dict[str, tuple[int, int]]:
    """Mismatches between the manifest and actual row counts ({} when consistent)."""
    bad: dict[str, tuple[int, int]] = {}
    with connect(published, read_only=True) as con:
        for name, expected in con.execute(
            "select table_name, row_count from _segmint.manifest"
        ).fetchall():
            schema, table = name.split(".", 1)
            (actual,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            if actual != expected:
                bad[name] = (int(expected), int(actual))
    return bad
