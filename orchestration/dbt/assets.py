"""dbt models as Dagster assets: models, incremental facts and snapshot in one step; targeting;
the holdout readout (after the audience exports)."""

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import Field

from orchestration.dbt.project import dbt_project, prepare_manifest
from orchestration.resources import WRITER_POOL, WarehouseResource
from segmint.privacy import prepare_file

if dbt_project.preparer is not None:
    dbt_project.prepare_if_dev()
prepare_manifest()

TARGETING = "path:models/marts/activation tag:audience"
# Built after the audience exports of a run (orchestration.activation wires those deps).
READOUT = "holdout_readout"


class SegmintTranslator(DagsterDbtTranslator):
    """Key every node by [schema, name] and group it by its project folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        rtype = dbt_resource_props["resource_type"]
        if rtype == "snapshot":
            return "snapshots"
        if dbt_resource_props.get("schema") == "activation":
            return "activation"
        fqn = dbt_resource_props.get("fqn", [])
        if "activation" in fqn or "audience" in dbt_resource_props.get("tags", []):
            return "targeting"
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = SegmintTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_vars(warehouse: WarehouseResource) -> dict[str, Any]:
    v: dict[str, Any] = {
        "churn_horizon_days": warehouse.churn_horizon_days,
        "base_currency": warehouse.base_currency,
    }
    if warehouse.as_of:
        v["as_of"] = warehouse.as_of
    return v


def _row_counts(warehouse: WarehouseResource, keys: list[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Count rows after dbt exits (the dbt process holds the writer lock while it runs)."""
    counts: dict[dg.AssetKey, int] = {}
    con = duckdb.connect(warehouse.path, read_only=True)
    try:
        for key in keys:
            schema, name = key.path[0], key.path[-1]
            try:
                counts[key] = int(
                    con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
                )
            except duckdb.Error:
                continue
    finally:
        con.close()
    return counts


PARTIAL_PARSE = "partial_parse.msgpack"


def seed_partial_parse(warehouse: WarehouseResource, target: Path) -> Path:
    """Give a fresh per-op target the parse state of the previous dbt call on this warehouse.

    dagster-dbt copies the project's partial_parse.msgpack into an empty target, but that
    one was parsed for another profile (warehouse path), so dbt re-parsed the whole project
    in every op (about 10 s each, three times per run). The last invocation's state is kept
    next to the warehouse instead; dbt checks vars, profile and file hashes itself and falls
    back to a full parse when anything differs, so a stale copy costs nothing but time.
    """
    cache = warehouse.artifact_dir("dbt") / PARTIAL_PARSE
    if cache.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, target / PARTIAL_PARSE)
    return cache


def keep_partial_parse(target: Path, cache: Path) -> None:
    """Store the invocation's parse state for the next op (temp file + rename: atomic)."""
    produced = target / PARTIAL_PARSE
    if produced.exists():
        tmp = cache.with_name(f".{cache.name}.tmp-{os.getpid()}")
        shutil.copyfile(produced, tmp)
        os.replace(tmp, cache)


def run_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    command: str = "build",
    full_refresh: bool = False,
) -> Iterator[Any]:
    """Run dbt for the selected nodes, then attach row counts to every materialization."""
    warehouse.export_env()
    prepare_file(warehouse.db)  # the identifier hash key's pads, read by the keyed_hash macro
    args = [command, "--vars", json.dumps(dbt_vars(warehouse))]
    if full_refresh:
        args.append("--full-refresh")
    # dbt's per-invocation target (logs, run_results) lives next to the warehouse, replaced
    # each run, instead of piling up one copy per run inside the project.
    target = warehouse.artifact_dir("dbt") / context.op.name
    shutil.rmtree(target, ignore_errors=True)
    parse_cache = seed_partial_parse(warehouse, target)
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    events = list(invocation.stream())
    keep_partial_parse(target, parse_cache)
    keys = [
        ev.asset_key
        if isinstance(ev, dg.AssetMaterialization)
        else context.asset_key_for_output(ev.output_name)
        for ev in events
        if isinstance(ev, dg.Output | dg.AssetMaterialization)
    ]
    counts = _row_counts(warehouse, keys)
    for ev in events:
        if isinstance(ev, dg.Output):
            key = context.asset_key_for_output(ev.output_name)
            meta = dict(ev.metadata or {})
            if key in counts:
                meta["dagster/row_count"] = dg.MetadataValue.int(counts[key])
            yield dg.Output(value=None, output_name=ev.output_name, metadata=meta)
        else:
            yield ev
    if not invocation.is_successful():
        errors = invocation.get_error() or RuntimeError("dbt failed")
        raise dg.Failure(
            description=f"dbt {command} failed: {errors}",
            metadata={"dbt_command": " ".join(args)},
        )


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        False, description="Rebuild incremental models from scratch (dbt --full-refresh)"
    )


# Plain and incremental models and the snapshot run in one dbt invocation: relationship
# tests on the incremental facts point at dimensions, and dbt orders those tests after both
# parents exist; a separate Dagster op for the facts would run them before the dimension is
# built. The snapshot had its own op once; each dbt invocation costs a few seconds of
# interpreter start and parse, for a snapshot that takes one second to build.
@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=TARGETING,
    dagster_dbt_translator=translator,
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
    """Staging views, intermediate tables, incremental facts (lookback for late rows), marts,
    and the SCD type 2 snapshot of customers."""
    yield from run_dbt(context, dbt, warehouse, full_refresh=config.full_refresh)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=TARGETING,
    exclude=READOUT,
    dagster_dbt_translator=translator,
    name="dbt_targeting",
    pool=WRITER_POOL,
)
def dbt_targeting(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """customer_targeting and audience models, built after segments and churn scores."""
    yield from run_dbt(context, dbt, warehouse)


class ReadoutTranslator(SegmintTranslator):
    """SegmintTranslator that puts the holdout readout after the given assets."""

    def __init__(self, upstream: list[dg.AssetKey]) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.upstream = upstream

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model" and props["name"] == READOUT and self.upstream:
            spec = spec.merge_attributes(deps=self.upstream)
        return spec


def readout_after(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """activation.holdout_readout (dbt), downstream of `upstream`: the run's audience exports.

    The deps go in through the translator, so dagster-dbt builds the op's inputs with them
    (AssetsDefinition.map_asset_specs adds the inputs but not their asset keys).
    """

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=READOUT,
        dagster_dbt_translator=ReadoutTranslator(upstream),
        name="holdout_readout",
        pool=WRITER_POOL,
    )
    def holdout_readout(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """activation.holdout_readout: exported vs holdout members of every export, 95% CIs."""
        yield from run_dbt(context, dbt, warehouse)

    return holdout_readout


# The readout is not listed: orchestration.activation adds it through readout_after().
DBT_ASSETS = [dbt_models, dbt_targeting]
