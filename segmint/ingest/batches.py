"""Postgres batches into raw.*: every Parquet batch dlt wrote passes the landing path.

A batch is loaded like a landed Parquet file (load._ingest_file: one transaction for raw,
quarantine and its raw.load_ledger row, read = loaded + quarantined) and removed only
after that commit; a batch already in the ledger (same content hash: a full-table read
that found nothing new, or a crash between commit and removal) is skipped and removed. A
refused batch moves to ``postgres/refused`` for inspection instead of being retried.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from segmint import privacy
from segmint.contract import TABLES
from segmint.ingest.ledger import ensure_schema, wall_clock
from segmint.ingest.load import _connect, _ingest_file
from segmint.ingest.postgres import DATASET, batch_dir, extract, source_root
from segmint.ingest.report import LOADED, REFUSED, SKIPPED, IngestReport, Progress
from segmint.settings import PostgresSource, get_settings


def pending_batches(warehouse: Path, source: PostgresSource) -> list[tuple[str, Path]]:
    """(contract table, batch file) in contract order, oldest batch first (dlt's file
    names start with the load id, a timestamp)."""
    root = batch_dir(warehouse) / DATASET
    return [
        (name, path)
        for name in TABLES
        if name in source.tables
        for path in sorted((root / name).glob("*.parquet"))
    ]


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
