"""Postgres batches into raw.*: every Parquet batch dlt wrote passes the landing path.

A batch is loaded like a landed Parquet file (load._ingest_file: one transaction for raw,
quarantine and its raw.load_ledger row, read = loaded + quarantined) and removed only
after that commit; a batch already in the ledger (same content hash: a full-table read
that found nothing new, or a crash between commit and removal) is skipped and removed. A
refused batch moves to ``postgres/refused`` for inspection instead of being retried.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from segmint import privacy
from segmint.contract import TABLES
from segmint.ingest.ledger import ensure_schema, wall_clock
from segmint.ingest.load import _connect, _ingest_file
from segmint.ingest.postgres import DATASET, batch_dir, extract, source_root
from segmint.ingest.report import LOADED, REFUSED, SKIPPED, IngestReport, Progress
from segmint.settings import PostgresSource, get_settings

_LOAD_ID = re.compile(r"__(\d+(?:\.\d+)?)")


def _load_id(batch: Path) -> str:
    """dlt's load id of a batch file (<load id>.<file id>.parquet; the id is a timestamp)."""
    return ".".join(batch.name.split(".")[:2])


def pending_batches(warehouse: Path, source: PostgresSource) -> list[tuple[str, Path]]:
    """(contract table, batch file) of every load dlt completed, in contract order, oldest
    batch first.

    dlt records a load in _dlt_loads only once all its files are written. A file of a load
    not recorded there is not loaded: a newer one is still being written; an older one
    belongs to a load that dagster-dlt dropped before it completed (its rows were read
    again into a later load) and moves to ``postgres/orphaned``.
    """
    root = batch_dir(warehouse) / DATASET
    done = {m[1] for p in root.glob("_dlt_loads/*") if (m := _LOAD_ID.search(p.name))}
    newest = max(done, key=float, default=None)
    out: list[tuple[str, Path]] = []
    for name in TABLES:
        if name not in source.tables:
            continue
        for path in sorted((root / name).glob("*.parquet")):
            if _load_id(path) in done:
                out.append((name, path))
            elif newest is not None and float(_load_id(path)) < float(newest):
                kept = source_root(warehouse) / "orphaned" / name
                kept.mkdir(parents=True, exist_ok=True)
                path.replace(kept / path.name)
    return out


def load_batches(
    warehouse: Path,
    source: PostgresSource,
    progress: Progress | None = None,
    earliest: date | None = None,
) -> IngestReport:
    """Load every pending batch into raw.* / quarantine.* (see the module doc)."""
    warehouse = Path(warehouse)
    earliest = earliest or get_settings().ingest_earliest_date
    todo = pending_batches(warehouse, source)
    report = IngestReport(f"postgres:{source.db_schema}", str(warehouse))
    con = _connect(warehouse)
    try:
        ensure_schema(con)
        privacy.prepare(con)
        erasure = privacy.erasure_kinds(con)
        if progress:
            progress("ingest", 0, len(todo))
        for i, (name, path) in enumerate(todo, start=1):
            spec = source.tables[name]
            label = f"postgres:{source.db_schema}.{spec.table or name}/{path.name}"
            # Each batch its own load time: a later batch of the same key wins in staging.
            result = _ingest_file(
                con, path, TABLES[name], wall_clock(), erasure, earliest, label=label
            )
            report.files.append(result)
            if result.status in (LOADED, SKIPPED):
                path.unlink()
            elif result.status == REFUSED:
                kept = source_root(warehouse) / "refused" / name
                kept.mkdir(parents=True, exist_ok=True)
                path.replace(kept / path.name)
            if progress:
                progress(f"{name}: {path.name}", i, len(todo))
    finally:
        con.close()
    return report


def ingest_postgres(
    source: PostgresSource,
    warehouse: Path,
    progress: Progress | None = None,
    earliest: date | None = None,
) -> IngestReport:
    """Extract the source's new rows with dlt, then load every pending batch."""
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    extract(source, warehouse)
    return load_batches(warehouse, source, progress, earliest)
