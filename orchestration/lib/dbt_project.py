"""The dbt project as Dagster sees it, and the prepare step that writes its manifest.

The project's files are read from the installed package (segmint.project.DBT_PROJECT_DIR);
everything dbt writes (manifest, partial-parse state, logs, per-step targets) goes under
`<warehouse dir>/dbt/`, so a read-only install works. `dbt parse` runs in `prepare()`,
which `segmint run` and `segmint ui` call before loading the definitions; importing the
code location never runs dbt.
"""

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

from orchestration.lib.resources import WarehouseResource
from segmint.errors import SegmintError
from segmint.project import DBT_PROJECT_DIR, dbt_dir
from segmint.settings import Settings

# The dbt next to this interpreter (the venv's), so no PATH setup is needed.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
SOURCE_FOLDERS = ("models", "macros", "snapshots", "seeds", "tests")


def dbt_project(settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project of these settings: files from the package, target under the warehouse.

    DbtProject joins project_dir with target_path; an absolute target_path wins, so the
    manifest dagster-dbt reads is <warehouse dir>/dbt/target/manifest.json.
    """
    return DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target_path=dbt_dir(settings.warehouse) / "target",
    )


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


def dbt_resource(project: DbtProject) -> SegmintDbtCli:
    return SegmintDbtCli(project_dir=project, dbt_executable=DBT_EXECUTABLE)


def _newest_source_mtime(project_dir: Path) -> float:
    newest = (project_dir / "dbt_project.yml").stat().st_mtime
    for sub in SOURCE_FOLDERS:
        for p in (project_dir / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return newest


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment of a dbt subprocess for these settings (profiles.yml reads the path,
    the engine as its target and Spark's folder)."""
    return {
        **os.environ,
        "SEGMINT_WAREHOUSE": str(settings.warehouse.resolve()),
        "SEGMINT_ENGINE": settings.engine,
        "SEGMINT_SPARK_DIR": str(settings.spark_path.resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def prepare(settings: Settings, project_dir: Path = DBT_PROJECT_DIR, force: bool = False) -> Path:
    """Write the manifest under <warehouse dir>/dbt/target when missing or older than the
    project's files (`dbt parse` with the run's vars, so the runs' partial parsing holds)."""
    project = dbt_project(settings, project_dir)
    manifest = project.manifest_path
    if (
        not force
        and manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime(project_dir)
    ):
        return manifest
    target = manifest.parent
    target.mkdir(parents=True, exist_ok=True)
    cmd = [DBT_EXECUTABLE, "parse", "--quiet"]
    cmd += [
        "--vars",
        # the same vars as every run's invocation (WarehouseResource.dbt_vars)
        json.dumps(WarehouseResource.from_settings(settings).dbt_vars()),
    ]
    cmd += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    cmd += ["--target-path", str(target), "--log-path", str(target.parent / "logs")]
    proc = subprocess.run(
        cmd, env=dbt_env(settings), capture_output=True, text=True, cwd=target.parent
    )
    if proc.returncode != 0:
        detail = (proc.stdout + proc.stderr).strip().splitlines()
        raise SegmintError(f"dbt parse failed: {detail[-1] if detail else 'no output'}")
    return manifest


def require_manifest(project: DbtProject) -> Path:
    """The prepared manifest, or a clear error naming the step that writes it."""
    if not project.manifest_path.exists():
        raise SegmintError(
            f"no dbt manifest at {project.manifest_path}: start the UI with `segmint ui`, "
            "or run `segmint run` once, from the project folder (both prepare it)"
        )
    return project.manifest_path
