"""The dbt project as Dagster sees it, and the prepare step that writes its manifest.

The project's files are read from the installed package (segmint.project.DBT_PROJECT_DIR);
everything dbt writes (manifest, partial-parse state, logs, per-step targets) goes under
`<warehouse dir>/dbt/`, so a read-only install works. `dbt parse` runs in `prepare()`
(orchestration.lib.prepare), which `segmint run` and `segmint ui` call before loading the
definitions; importing the code location never runs dbt.
"""

from __future__ import annotations

from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

# The prepare step lives in orchestration.lib.prepare (no Dagster import); re-exported here.
from orchestration.lib.prepare import DBT_EXECUTABLE, dbt_env, prepare, wait_for_prepare
from segmint.errors import SegmintError
from segmint.project import DBT_PROJECT_DIR, dbt_dir
from segmint.settings import Settings

__all__ = ["DBT_EXECUTABLE", "dbt_env", "dbt_project", "dbt_resource", "prepare"]


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


def require_manifest(project: DbtProject) -> Path:
    """The prepared manifest, or a clear error naming the step that writes it (after a
    prepare in progress, e.g. `segmint ui`'s, finished)."""
    wait_for_prepare(project.manifest_path)
    if not project.manifest_path.exists():
        raise SegmintError(
            f"no dbt manifest at {project.manifest_path}: start the UI with `segmint ui`, "
            "or run `segmint run` once, from the project folder (both prepare it)"
        )
    return project.manifest_path
