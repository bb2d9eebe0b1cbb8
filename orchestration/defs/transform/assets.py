"""dbt models as Dagster assets: staging, intermediate, marts and the snapshot in one step;
customer_targeting and audience models in a second, after the models of ml/."""

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from orchestration.lib.dbt import SegmintTranslator, run_dbt
from orchestration.lib.dbt_project import require_manifest
from orchestration.lib.resources import WRITER_POOL, WarehouseResource

TARGETING_PATH = "path:models/marts/activation"
AUDIENCE_TAG = "audience"
# Built after the audience exports of a run (the activation domain defines it).
READOUT = "holdout_readout"


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        False, description="Rebuild incremental models from scratch (dbt --full-refresh)"
    )


def targeting_selection(project: DbtProject) -> str:
    """customer_targeting's folder, plus dbt models tagged `audience` when there are any
    (dbt logs a warning for a selector that matches nothing, at every load)."""
    import json

    manifest = json.loads(require_manifest(project).read_text())
    tagged = any(
        AUDIENCE_TAG in (node.get("tags") or [])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
    )
    return f"{TARGETING_PATH} tag:{AUDIENCE_TAG}" if tagged else TARGETING_PATH


def build_dbt_models(project: DbtProject) -> dg.AssetsDefinition:
    """Plain and incremental models and the snapshot, in one dbt invocation.

    Relationship tests on the incremental facts point at dimensions, and dbt orders those
    tests after both parents exist; a separate Dagster op for the facts would run them
    before the dimension is built. Each dbt invocation costs a few seconds of interpreter
    start and parse, so the one-second snapshot shares the step too.
    """

    @dbt_assets(
        manifest=require_manifest(project),
        project=project,
        exclude=targeting_selection(project),
        dagster_dbt_translator=SegmintTranslator(),
        name="dbt_models",
        pool=WRITER_POOL,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dbt_models(
        context: dg.AssetExecutionContext,
        config: DbtBuildConfig,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
    ):
        """Staging tables, intermediate features, incremental facts (lookback for late rows),
        marts, and the SCD type 2 snapshot of customers."""
        yield from run_dbt(context, dbt, warehouse, full_refresh=config.full_refresh)

    return dbt_models


def build_dbt_targeting(project: DbtProject) -> dg.AssetsDefinition:
    """customer_targeting and the audience models, built after segments and churn scores."""

    @dbt_assets(
        manifest=require_manifest(project),
        project=project,
        select=targeting_selection(project),
        exclude=READOUT,
        dagster_dbt_translator=SegmintTranslator(),
        name="dbt_targeting",
        pool=WRITER_POOL,
    )
    def dbt_targeting(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """customer_targeting and audience models, built after segments and churn scores."""
        yield from run_dbt(context, dbt, warehouse)

    return dbt_targeting
