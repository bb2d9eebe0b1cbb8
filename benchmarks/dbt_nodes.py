"""What the benchmark reads from a warehouse's dbt manifest (written by the pipeline's
prepare step under <warehouse dir>/dbt/target): the nodes each mart depends on, the dbt
step's per-model timing, the incremental models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def manifest_nodes(manifest: Path | None) -> dict[str, set[str]]:
    """Asset keys (schema/name) of dbt nodes by role, from the parsed manifest.

    "customer_360" / "daily_demand": that mart and every model upstream of it (what the floor
    replaces); "dbt_models": the nodes the dbt_models step builds (models, snapshot; no
    targeting).
    """
    if manifest is None or not manifest.exists():
        return {}
    parsed = json.loads(manifest.read_text())
    nodes = parsed.get("nodes", {})
    parents = parsed.get("parent_map", {})

    def key(uid: str) -> str:
        return f"{nodes[uid]['schema']}/{nodes[uid]['name']}"

    out: dict[str, set[str]] = {}
    for target in ("customer_360", "daily_demand"):
        seen: set[str] = set()
        todo = [f"model.segmint.{target}"]
        while todo:
            uid = todo.pop()
            if uid in seen:
                continue
            seen.add(uid)
            todo.extend(parents.get(uid, []))
        out[target] = {
            key(u) for u in seen if u in nodes and nodes[u].get("resource_type") == "model"
        }
    out["dbt_models"] = {
        key(uid)
        for uid, node in nodes.items()
        if node.get("resource_type") in ("model", "seed", "snapshot")
        and "activation" not in node.get("fqn", [])
        and "audience" not in node.get("tags", [])
    }
    return out


def dbt_profile(run: dict[str, Any], manifest: Path | None) -> dict[str, Any]:
    """Per-model seconds (dbt's own timing) and what the dbt step spends outside models."""
    groups = manifest_nodes(manifest)
    in_step = groups.get("dbt_models")
    nodes = {k: v for k, v in run["dbt_nodes"].items() if in_step is None or k in in_step}
    dbt_step = run["stages"].get("dbt", {}).get("seconds", 0.0)
    models_total = sum(nodes.values())
    needed = groups.get("customer_360", set()) | groups.get("daily_demand", set())
    return {
        "dbt_step_seconds": dbt_step,
        "models_seconds": round(models_total, 2),
        "tests_and_overhead_seconds": round(dbt_step - models_total, 2),
        "floor_lineage_models_seconds": round(sum(v for k, v in nodes.items() if k in needed), 2),
        "top_models": [
            {"model": k, "seconds": round(v, 2)}
            for k, v in sorted(nodes.items(), key=lambda kv: -kv[1])[:10]
        ],
    }


def incremental_models(manifest: Path) -> list[tuple[str, str]]:
    """(schema, name) of the incremental models of the warehouse's dbt manifest."""
    if not manifest.exists():
        raise FileNotFoundError(f"no dbt manifest at {manifest}: did the pipeline run?")
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    return [
        (n["schema"], n["name"])
        for n in nodes.values()
        if n.get("resource_type") == "model"
        and n.get("config", {}).get("materialized") == "incremental"
    ]
