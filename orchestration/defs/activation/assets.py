"""Activation assets: one per audience (downstream of customer_targeting), the export state
tables they write, then the dbt holdout readout after all of them."""

from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from orchestration.defs.transform.assets import READOUT
from orchestration.lib.dbt import SegmintTranslator, run_dbt
from orchestration.lib.dbt_project import require_manifest
from orchestration.lib.resources import WRITER_POOL, WarehouseResource
from segmint.activation import get_audience, run_audience

TARGETING_KEY = dg.AssetKey(["marts", "customer_targeting"])
GROUP = "activation"
COUNTERS = ("members", "holdout", "exported", "added", "removed")
# A destination's Dagster kind: the vendor, or the file format of a plain export.
FILE_KINDS = {"csv": "csv", "parquet": "parquet", "jsonl": "json"}
MAX_KINDS = 3  # Dagster shows at most three kinds per asset

# Export state written by every audience asset (segmint.activation.state), read by the
# readout; not materialized on their own.
STATE_SPECS = [
    dg.AssetSpec(
        dg.AssetKey(["activation", table]),
        group_name=GROUP,
        kinds={"duckdb"},
        description=description,
    )
    for table, description in (
        (
            "audience_runs",
            "One row per export run of an audience to a destination (written "
            "by the audience assets and `segmint audiences export`).",
        ),
        (
            "audience_run_members",
            "The members recorded for each export run, exported or in "
            "the holdout (written by the audience assets).",
        ),
    )
]


class AudienceExportConfig(dg.Config):
    mode: str = Field("delta", description="full: send every member; delta: only adds and removes")


def destination_kinds(formats: list[str]) -> set[str]:
    """Kinds of an audience's destinations, vendors first (`hubspot`, `google_ads`, …), then
    plain file formats; at most three."""
    vendors = sorted({f for f in formats if f not in FILE_KINDS})
    files = sorted({FILE_KINDS[f] for f in formats if f in FILE_KINDS})
    return set((vendors + files)[:MAX_KINDS]) or {"duckdb"}


def export_metadata(results: list, mode: str) -> dict[str, dg.MetadataValue | str]:
    """Counters per destination (`<destination>/members`, …) and the files written.

    No sum over destinations: an audience sent to two vendors has its members once, and
    each vendor's adds and removes differ.
    """
    meta: dict[str, dg.MetadataValue | str] = {}
    files: list[str] = []
    for r in results:
        m = r.metadata()
        for k in COUNTERS:
            meta[f"{r.destination}/{k}"] = dg.MetadataValue.int(int(m.get(k, 0) or 0))
        files.extend(str(f) for f in (m.get("files") or []))
    if results:
        meta["members"] = dg.MetadataValue.int(
            max(int(r.metadata().get("members", 0) or 0) for r in results)
        )
    meta["destinations"] = dg.MetadataValue.json([r.destination for r in results])
    meta["files"] = dg.MetadataValue.json(files)
    meta["mode"] = mode
    return meta


def audience_asset(audience, folder: Path) -> dg.AssetsDefinition:
    name = audience.name

    @dg.asset(
        key=dg.AssetKey(["activation", f"audience_{name}"]),
        deps=[TARGETING_KEY],
        group_name=GROUP,
        pool=WRITER_POOL,
        kinds=destination_kinds([d.format for d in audience.destinations]),
        description=audience.description or f"Audience {name}",
    )
    def export(
        context: dg.AssetExecutionContext,
        config: AudienceExportConfig,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        con = duckdb.connect(warehouse.path)
        try:
            if warehouse.on_spark:
                # the audiences select from customer_targeting, built on Spark: a copy in
                # the working file, beside the export state the audiences keep there
                warehouse.engine_io().copy_to_duckdb(con, *TARGETING_KEY.path)
            current = get_audience(name, folder, con)
            results = run_audience(
                con, current, Path(warehouse.exports), config.mode, warehouse.holdout_salt
            )
        finally:
            con.close()
        return dg.MaterializeResult(metadata=export_metadata(results, config.mode))

    return export


def readout(project: DbtProject, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """activation.holdout_readout (dbt), downstream of `upstream`: the run's audience exports."""

    @dbt_assets(
        manifest=require_manifest(project),
        project=project,
        select=READOUT,
        dagster_dbt_translator=SegmintTranslator(upstream),
        name="holdout_readout",
        pool=WRITER_POOL,
    )
    def holdout_readout(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """activation.holdout_readout: exported vs holdout members of every export, 95% CIs."""
        yield from run_dbt(context, dbt, warehouse)

    return holdout_readout
