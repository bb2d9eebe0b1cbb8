"""What `segmint run` and `segmint ui` do before Dagster starts, without importing Dagster.

`prepare()` writes the dbt manifest under <warehouse dir>/dbt/target (`dbt parse` with the
run's vars) when it is missing or older than the project's files; `dagster_home()` is the
persistent Dagster instance beside the warehouse. Importing dagster and dagster-dbt costs
about 3 s; `segmint ui` needs neither before it launches `dagster dev` (which imports them
itself), so they stay out of this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from segmint.errors import SegmintError
from segmint.fs import pid_alive
from segmint.project import DBT_PROJECT_DIR, dbt_dir
from segmint.settings import Settings, identity_vars

# The dbt next to this interpreter (the venv's), so no PATH setup is needed.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
SOURCE_FOLDERS = ("models", "macros", "snapshots", "seeds", "tests")
# Beside the manifest while a prepare is running; holds the preparing process's pid.
PREPARING = ".preparing"

DAGSTER_YAML = """\
# Written by segmint. One writer at a time: every DuckDB-writing step takes the
# 'duckdb_writer' pool, limited to 1 here, and only one run executes at once.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def dagster_home(settings: Settings) -> Path:
    """A persistent Dagster instance next to the warehouse, so runs show in the UI."""
    home = settings.warehouse.resolve().parent / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    return home


def dbt_vars(
    churn_horizon_days: int,
    as_of: str | None,
    base_currency: str,
    identity: dict[str, object] | None = None,
) -> dict[str, object]:
    """The vars of every dbt invocation (the prepare step parses with the same ones)."""
    v: dict[str, object] = {
        "churn_horizon_days": churn_horizon_days,
        "base_currency": base_currency,
        **(identity or {}),
    }
    if as_of:
        v["as_of"] = as_of
    return v


def settings_dbt_vars(s: Settings) -> dict[str, object]:
    """dbt_vars of these settings, as WarehouseResource.dbt_vars gives them to every step."""
    identity = identity_vars(
        s.identity_merge_types, s.identity_max_persons, s.identity_placeholder_emails
    )
    return dbt_vars(s.churn_horizon_days, s.as_of, s.base_currency, identity)


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


def manifest_path(settings: Settings) -> Path:
    """<warehouse dir>/dbt/target/manifest.json, the manifest dagster-dbt reads."""
    return dbt_dir(settings.warehouse) / "target" / "manifest.json"


def _newest_source_mtime(project_dir: Path) -> float:
    newest = (project_dir / "dbt_project.yml").stat().st_mtime
    for sub in SOURCE_FOLDERS:
        for p in (project_dir / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    return newest


def prepare(settings: Settings, project_dir: Path = DBT_PROJECT_DIR, force: bool = False) -> Path:
    """Write the manifest under <warehouse dir>/dbt/target when missing or older than the
    project's files (`dbt parse` with the run's vars, so the runs' partial parsing holds)."""
    manifest = manifest_path(settings)
    if (
        not force
        and manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime(project_dir)
    ):
        return manifest
    target = manifest.parent
    target.mkdir(parents=True, exist_ok=True)
    cmd = [DBT_EXECUTABLE, "parse", "--quiet"]
    cmd += ["--vars", json.dumps(settings_dbt_vars(settings))]
    cmd += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    cmd += ["--target-path", str(target), "--log-path", str(target.parent / "logs")]
    proc = subprocess.run(
        cmd, env=dbt_env(settings), capture_output=True, text=True, cwd=target.parent
    )
    if proc.returncode != 0:
        detail = (proc.stdout + proc.stderr).strip().splitlines()
        raise SegmintError(f"dbt parse failed: {detail[-1] if detail else 'no output'}")
    return manifest


@contextlib.contextmanager
def announced(settings: Settings) -> Iterator[None]:
    """Mark the manifest as being prepared while the block runs.

    `segmint ui` starts `dagster dev` and parses at the same time (the webserver and the
    daemon start in the seconds the parse takes); the code server's load waits for the
    mark to go (`wait_for_prepare`) before it reads the manifest.
    """
    mark = manifest_path(settings).parent / PREPARING
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(str(os.getpid()))
    try:
        yield
    finally:
        mark.unlink(missing_ok=True)


def wait_for_prepare(manifest: Path, timeout: float = 600.0) -> None:
    """Return once no live process is preparing `manifest` (at most `timeout` seconds)."""
    mark = manifest.parent / PREPARING
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = int(mark.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return
        if pid == os.getpid() or not pid_alive(pid):
            return
        time.sleep(0.1)
