"""Activation assets: one per audience (downstream of customer_targeting), then the dbt readout."""

from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from orchestration.dbt.assets import readout_after
from orchestration.resources import WRITER_POOL, WarehouseResource
from segmint.activation import get_audience, run_audience, validate_audiences
from segmint.settings import Settings

TARGETING_KEY = dg.AssetKey(["marts", "customer_targeting"])


class AudienceExportConfig(dg.Config):
    mode: str = Field("delta", description="full: send every member; delta: only adds and removes")


def _audience_asset(name: str, description: str, folder: Path) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["activation", f"audience_{name}"]),
        deps=[TARGETING_KEY],
        group_name="activation",
        pool=WRITER_POOL,
        kinds={"duckdb", "csv"},
        description=description or f"Audience {name}",
    )
    def export(
        context: dg.AssetExecutionContext,
        config: AudienceExportConfig,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        con = duckdb.connect(warehouse.path)
        try:
            audience = get_audience(name, folder, con)
            results = run_audience(
                con, audience, Path(warehouse.exports), config.mode, warehouse.holdout_salt
            )
        finally:
            con.close()
        totals = {k: 0 for k in ("members", "holdout", "exported", "added", "removed")}
        files = []
        for r in results:
            meta = r.metadata()
            for k in totals:
                totals[k] += int(meta.get(k, 0) or 0)
            files.extend(str(f) for f in (meta.get("files") or []))
        return dg.MaterializeResult(
            metadata={
                **{k: dg.MetadataValue.int(v) for k, v in totals.items()},
                "destinations": dg.MetadataValue.json([r.destination for r in results]),
                "files": dg.MetadataValue.json(files),
                "mode": config.mode,
            }
        )

    return export


def build_activation_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """One asset per valid audience file, then the holdout readout (dbt) after all of them.

    The readout is there without audiences too: its table exists (empty) before any export.
    """
    folder = settings.audiences.resolve()
    audiences = validate_audiences(folder)[0] if folder.is_dir() else []
    assets = [_audience_asset(a.name, a.description or "", folder) for a in audiences]
    return [*assets, readout_after([a.key for a in assets])]
