"""The dbt project as Dagster sees it, and the manifest preparation a fresh clone needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# The dbt next to this interpreter (the venv's), so no PATH setup is needed.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


class SegmintDbtCli(DbtCliResource):
    """dagster-dbt's CLI resource, minus a `dbt --version` subprocess in every step.

    DbtCliResource learns the dbt version by running `dbt --version` once per resource
    instance, i.e. once per dbt step (about 3 s of interpreter start each). The executable
    is the venv's own (DBT_EXECUTABLE) and dbt-core is pinned, so the installed package's
    version is the executable's.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


def dbt_resource() -> SegmintDbtCli:
    return SegmintDbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def _newest_source_mtime() -> float:
    newest = 0.0
    for sub in ("models", "macros", "snapshots", "seeds", "tests"):
        for p in (DBT_DIR / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return max(newest, (DBT_DIR / "dbt_project.yml").stat().st_mtime)


def default_vars() -> dict[str, object]:
    """dbt vars of a run from settings; parse with the same ones so partial parsing holds."""
    from segmint.settings import get_settings

    s = get_settings()
    v: dict[str, object] = {
        "churn_horizon_days": s.churn_horizon_days,
        "base_currency": s.base_currency,
    }
    if s.as_of:
        v["as_of"] = s.as_of
    return v


def prepare_manifest(force: bool = False) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    manifest = dbt_project.manifest_path
    if force or not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        env = {**os.environ}
        env.setdefault("SEGMINT_WAREHOUSE", str(DBT_DIR.parent / "warehouse" / "segmint.duckdb"))
        cmd = [DBT_EXECUTABLE, "parse", "--quiet", "--vars", json.dumps(default_vars())]
        cmd += ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=DBT_DIR)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    return manifest
