"""Ingest: one asset per raw table, loaded from the landing folder by segmint.ingest; the
privacy inputs (erasure ledger, identifier hash key) that ingest and dbt read."""

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import dagster as dg

from orchestration.lib.resources import WRITER_POOL, WarehouseResource
from segmint.contract import TABLES
from segmint.settings import PostgresSource

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in TABLES}

# The privacy group: what `segmint forget` and the identifier hash key write. Not
# materialized by the pipeline; ingest, dbt (keyed_hash, is_erased) and the exports read them.
PRIVACY_GROUP = "privacy"
PRIVACY_SPECS = [
    dg.AssetSpec(
        dg.AssetKey(["raw", "erasure_ledger"]),
        group_name=PRIVACY_GROUP,
        kinds={"duckdb"},
        description="Privacy group: right-to-erasure requests, one row per erased customer "
        "(keyed hash of the id, never the id), written by `segmint forget`. Ingest drops the "
        "erased people's rows, customer_targeting marks them, exports send their removal.",
    ),
    dg.AssetSpec(
        dg.AssetKey(["_segmint", "hash_key"]),
        group_name=PRIVACY_GROUP,
        kinds={"duckdb"},
        description="Privacy group: the two HMAC pads of the identifier hash key (one row), "
        "written before each dbt step from the key kept beside the warehouse; read only by "
        "the keyed_hash macro. Never published.",
    ),
]


def raw_tables_asset(source: PostgresSource | None = None) -> dg.AssetsDefinition:
    """raw.*: new landing files and, with a `source` setting, the Postgres batches its dlt
    assets (orchestration.defs.ingest.postgres) extracted, both through the same contract."""
    tables = source.tables if source else {}
    upstream = {name: [dg.AssetKey(["postgres", name])] for name in tables}

    @dg.multi_asset(
        name="raw_tables",
        specs=[
            dg.AssetSpec(
                RAW_KEYS[name],
                group_name="raw",
                description=f"raw.{name}: typed rows of landing files"
                + (" and Postgres batches" if name in upstream else "")
                + f"; bad rows in quarantine.{name}",
                kinds={"duckdb"},
                deps=upstream.get(name, []),
                # Raw tables should be loaded nightly: warn after 26 h, fail after 50 h.
                freshness_policy=dg.FreshnessPolicy.time_window(
                    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
                ),
            )
            for name in TABLES
        ],
        pool=WRITER_POOL,
    )
    def raw_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        """Load new landing files (and Postgres batches) into raw.*, quarantining rows that
        break the contract."""
        report = _ingest(context, warehouse, source)
        yield from _results(context, warehouse, report)

    return raw_tables


def _ingest(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, source: PostgresSource | None
):
    """The landing folder's new files, then the pending Postgres batches, as one report."""
    from segmint.ingest import IngestReport, ingest
    from segmint.preflight import missing_landing_note

    def progress(stage: str, done: int, total: int) -> None:
        context.log.debug(f"ingest {stage}: {done}/{total}")

    landing = Path(warehouse.landing)
    if landing.is_dir():
        report = ingest(landing, warehouse.db, progress=progress)
    else:  # nothing new to ingest when raw holds data (`segmint ingest DIR` loaded it)
        if source is None:
            context.log.info(missing_landing_note(landing, warehouse.db))
        report = IngestReport(str(landing), str(warehouse.db))
    if source is not None:
        from segmint.ingest.batches import load_batches

        report.files += load_batches(Path(warehouse.db), source, progress=progress).files
    return report


def _results(context: dg.AssetExecutionContext, warehouse: WarehouseResource, report):
    """One MaterializeResult per raw table: files and rows of this run, table totals."""
    import duckdb

    per_table: dict[str, dict[str, int]] = defaultdict(
        lambda: {
            "files_loaded": 0,
            "files_skipped": 0,
            "files_refused": 0,
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
        }
    )
    refused: list[str] = []
    for f in report.files:
        if not f.table:
            continue
        t = per_table[f.table]
        if f.status == "loaded":
            t["files_loaded"] += 1
        elif f.status == "refused":
            t["files_refused"] += 1
            refused.append(f"{f.file}: {f.message}")
        else:
            t["files_skipped"] += 1
        t["rows_read"] += f.rows_read
        t["rows_loaded"] += f.rows_loaded
        t["rows_quarantined"] += f.rows_quarantined
    for msg in refused:
        context.log.warning(f"refused {msg}")
    con = duckdb.connect(str(warehouse.db), read_only=True)
    try:
        totals = {
            name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in TABLES
        }
        quarantined = {
            name: con.execute(f"select count(*) from quarantine.{name}").fetchone()[0]
            for name in TABLES
        }
    finally:
        con.close()
    for name in TABLES:
        yield dg.MaterializeResult(
            asset_key=RAW_KEYS[name],
            metadata={
                **{k: dg.MetadataValue.int(v) for k, v in per_table[name].items()},
                "dagster/row_count": dg.MetadataValue.int(int(totals[name])),
                "quarantine_rows_total": dg.MetadataValue.int(int(quarantined[name])),
            },
        )


raw_tables = raw_tables_asset()
