"""How dbt nodes become Dagster assets and checks, and how a dbt step runs.

Shared by the transform domain (models, targeting) and the activation domain (the holdout
readout, a dbt model built after the exports).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource
from dagster_dbt import DbtProject as DagsterDbtProject

from orchestration.lib.dbt_inprocess import dbt_in_process
from orchestration.lib.resources import WarehouseResource
from segmint.as_of import check_as_of_file
from segmint.privacy import prepare_file

PARTIAL_PARSE = "partial_parse.msgpack"


def check_description(props: Mapping[str, Any]) -> str:
    """A dbt test's description; for a generic test without one, what it asserts in words."""
    if props.get("description"):
        return str(props["description"]).strip()
    meta = props.get("test_metadata") or {}
    name = meta.get("name") or props.get("name", "test")
    kwargs = {
        k: v for k, v in (meta.get("kwargs") or {}).items() if k not in ("model", "column_name")
    }
    column = props.get("column_name") or (meta.get("kwargs") or {}).get("column_name")
    text = f"dbt test {name}" + (f" on column {column}" if column else "")
    if kwargs:
        text += " (" + ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())) + ")"
    return text


class SegmintTranslator(DagsterDbtTranslator):
    """Key every node by [schema, name]; group by the flow's stage; describe every check.

    Groups: seeds join staging (reference data read by staging models), the snapshot joins
    marts (it snapshots dim customers), customer_targeting and audience models join the
    activation group with the exports and the readout.
    """

    def __init__(self, upstream: list[dg.AssetKey] | None = None) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.upstream = upstream or []

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        rtype = dbt_resource_props["resource_type"]
        fqn = dbt_resource_props.get("fqn", [])
        if rtype == "seed":
            return "staging"
        if rtype == "snapshot":
            return "marts"
        if (
            dbt_resource_props.get("schema") == "activation"
            or "activation" in fqn
            or "audience" in dbt_resource_props.get("tags", [])
        ):
            return "activation"
        return fqn[1] if len(fqn) > 2 else "marts"

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DagsterDbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        props = self.get_resource_props(manifest, unique_id)
        return spec._replace(description=check_description(props))

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DagsterDbtProject | None
    ) -> dg.AssetSpec:
        """Models also depend on `upstream` (the readout: on the run's audience exports).

        The deps go in through the translator, so dagster-dbt builds the op's inputs with
        them (AssetsDefinition.map_asset_specs adds the inputs but not their asset keys).
        """
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model" and self.upstream:
            spec = spec.merge_attributes(deps=self.upstream)
        return spec


def _row_counts(warehouse: WarehouseResource, keys: list[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Count rows after dbt exits (the dbt process holds the writer lock while it runs)."""
    by_table = {(key.path[0], key.path[-1]): key for key in keys}
    found = warehouse.engine_io().row_counts(by_table)
    return {by_table[table]: n for table, n in found.items()}


def seed_partial_parse(warehouse: WarehouseResource, target: Path) -> Path:
    """Give a fresh per-step target the parse state of the previous dbt call on this warehouse.

    dbt checks vars, profile and file hashes itself and falls back to a full parse when
    anything differs, so a stale copy costs nothing but time; without it every step re-parsed
    the whole project (about 10 s each, three times per run).
    """
    cache = warehouse.dbt_dir / PARTIAL_PARSE
    if not cache.exists():
        prepared = warehouse.dbt_dir / "target" / PARTIAL_PARSE
        cache = prepared if prepared.exists() else cache
    if cache.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, target / PARTIAL_PARSE)
    return warehouse.dbt_dir / PARTIAL_PARSE


def keep_partial_parse(target: Path, cache: Path) -> None:
    """Store the invocation's parse state for the next step (temp file + rename: atomic)."""
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
    if warehouse.as_of:  # against the data as ingested by this run, before dbt builds on it
        check_as_of_file(warehouse.db, warehouse.as_of)
    prepare_file(warehouse.db)  # the identifier hash key's pads, read by the keyed_hash macro
    args = [command, "--vars", json.dumps(warehouse.dbt_vars())]
    if full_refresh:
        args.append("--full-refresh")
    # dbt's per-step target (logs, run_results) lives under the warehouse's dbt folder,
    # replaced each run, never inside the installed project.
    target = warehouse.dbt_dir / "runs" / context.op.name
    shutil.rmtree(target, ignore_errors=True)
    parse_cache = seed_partial_parse(warehouse, target)
    if warehouse.on_spark:
        # dbt-spark reads raw.* from the lake: this run's ingest, mirrored and registered
        warehouse.engine_io().before_dbt()
        invocation = dbt_in_process(context, dbt, args, target)
    else:
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
