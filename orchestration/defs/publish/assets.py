"""Publish: swap in a read-only snapshot for analysts, only after blocking checks passed."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from orchestration.lib.resources import WRITER_POOL, WarehouseResource
from segmint.fs import write_json_atomic
from segmint.spark import PUBLISHED_FILE, PUBLISHED_SCHEMAS
from segmint.warehouse import publish as publish_snapshot


def failed_blocking_checks(context: dg.AssetExecutionContext) -> list[str]:
    """ERROR-severity check evaluations that failed earlier in this run."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    failed = []
    for rec in records:
        ev = rec.event_log_entry.dagster_event.event_specific_data
        if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(f"{ev.asset_key.to_user_string()}:{ev.check_name}")
    return sorted(set(failed))


def publish_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The last asset of the graph: depends on every analyst-facing table."""

    @dg.asset(
        key=dg.AssetKey(["publish", "snapshot"]),
        deps=list(upstream),
        group_name="publish",
        pool=WRITER_POOL,
        kinds={"duckdb"},
        description="Analyst-facing schemas (marts, ml, activation) copied to a new DuckDB "
        "file and swapped in atomically; PII columns are left out.",
    )
    def publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        failed = failed_blocking_checks(context)
        if failed:
            raise dg.Failure(
                description="blocking checks failed; the previous snapshot stays published",
                metadata={"failed_checks": dg.MetadataValue.json(failed)},
            )
        if warehouse.on_spark:
            return _publish_on_spark(context, warehouse)
        counts = publish_snapshot(warehouse.db, Path(warehouse.published), run_id=context.run_id)
        manifest = Path(warehouse.published).with_suffix(".manifest.json")
        write_json_atomic(manifest, {"run_id": context.run_id, "tables": counts})
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(warehouse.published),
                "tables": dg.MetadataValue.int(len(counts)),
                "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
                "row_counts": dg.MetadataValue.json(counts),
            }
        )

    return publish


def _publish_on_spark(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """On Spark the marts, ml and activation tables are the published tables (each replaced
    in one step by its build): no snapshot file; <spark dir>/published.json records the run
    and the tables' row counts for `segmint status`."""
    engine = warehouse.engine_io()
    session = engine.session
    tables = [
        (schema, t.name)
        for schema in PUBLISHED_SCHEMAS
        if session.catalog.databaseExists(schema)
        for t in session.catalog.listTables(schema)
        if not t.isTemporary and not t.name.endswith("__previous")
    ]
    counts = {f"{s}.{t}": n for (s, t), n in sorted(engine.row_counts(tables).items())}
    path = engine.spark_dir / PUBLISHED_FILE
    write_json_atomic(path, {"run_id": context.run_id, "engine": "spark", "tables": counts})
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "engine": dg.MetadataValue.text("spark"),
            "tables": dg.MetadataValue.int(len(counts)),
            "dagster/row_count": dg.MetadataValue.int(sum(counts.values())),
            "row_counts": dg.MetadataValue.json(counts),
        }
    )
