"""Quality gates: a Great Expectations suite per checked table, as Dagster asset checks.

ERROR expectations that fail make the check fail with ERROR severity; the checks are
blocking, so nothing downstream (and so not publish) runs. WARN failures annotate only.
A failed check's summary leads with each failing expectation and its observed value
(`FailedExpectation.line()`); Data Docs HTML is written under <artifacts>/data_docs and
linked from each result.
"""

from pathlib import Path

import dagster as dg
import duckdb

import expectations
from orchestration.lib.resources import WarehouseResource


def check_summary(outcome) -> str:
    """Each failed expectation with what was observed, one per line, then the verdict line."""
    head, *_ = outcome.summary().splitlines()
    lines = [f"{f.severity}: {f.line()}" for f in outcome.failed]
    return "\n".join([*lines, head])


def checked_file(warehouse: WarehouseResource, table: str) -> Path:
    """The DuckDB file holding `table` for its suite: the working file, or on Spark (for a
    table dbt or a model built there) a copy of the Spark table in <spark dir>/checks.duckdb
    (the suites run GX on DuckDB; the checked tables are customer- or order-level)."""
    if not warehouse.on_spark or table.startswith("raw."):
        return Path(warehouse.path)
    engine = warehouse.engine_io()
    path = engine.spark_dir / "checks.duckdb"
    schema, name = table.split(".")
    with duckdb.connect(str(path)) as con:
        if engine.exists(schema, name):
            engine.copy_to_duckdb(con, schema, name)
        else:  # not built: the suite reports the missing table, as on DuckDB
            con.execute(f'drop table if exists "{schema}"."{name}"')
    return path


def gx_check(table: str) -> dg.AssetChecksDefinition:
    """The blocking check of one checked table, on the asset keyed [schema, table]."""
    name = "gx_" + table.replace(".", "_")

    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name=name,
        blocking=True,
        description=f"Great Expectations suite for {table} (ERROR blocks publish)",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        # expectations.validate loads Great Expectations on first use, not at import.
        outcome = expectations.validate(
            checked_file(warehouse, table),
            table,
            docs_dir=warehouse.artifact_dir("data_docs"),
            history_dir=warehouse.artifact_dir("quality_history"),
        )
        meta: dict[str, object] = dict(outcome.metadata())
        meta["failed_expectations"] = dg.MetadataValue.int(len(outcome.failed))
        if outcome.docs_index:
            meta["data_docs"] = dg.MetadataValue.path(str(outcome.docs_index))
        return dg.AssetCheckResult(
            passed=not outcome.failed,
            severity=(
                dg.AssetCheckSeverity.ERROR
                if outcome.blocking_failed
                else dg.AssetCheckSeverity.WARN
            ),
            description=check_summary(outcome),
            metadata=meta,
        )

    return check


QUALITY_CHECKS: list[dg.AssetChecksDefinition] = [gx_check(t) for t in expectations.SUITES]
