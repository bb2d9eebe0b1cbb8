"""A segmint project folder, and where the files segmint ships with live.

A project folder is what `segmint init DIR` writes: `segmint.yaml` (the settings, with every
path relative to the folder), `audiences/` with the three example audiences, and an empty
`landing/`. Every command run from that folder reads the yaml and writes under it
(`warehouse/`, `exports/`); nothing is written into the installed package: dbt's target,
logs and parse state live under `<warehouse dir>/dbt/` (`dbt_dir`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from segmint.errors import SegmintError

# The source tree segmint runs from: the dbt project and the example audiences ship beside
# the Python packages (an editable install, or a checkout on PYTHONPATH).
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PACKAGE_ROOT / "dbt_project"
EXAMPLE_AUDIENCES = PACKAGE_ROOT / "audiences"

CONFIG_FILE = "segmint.yaml"

CONFIG_TEMPLATE = """\
# segmint settings for this project folder. Paths are relative to the folder you run
# `segmint` from; every key can also be set as SEGMINT_<KEY> or by a command's flag.
warehouse: warehouse/segmint.duckdb   # working DuckDB file (published.duckdb goes beside it)
landing: landing                      # raw files to ingest (CSV, Parquet, JSON lines)
audiences: audiences                  # audience YAML files
exports: exports                      # audience export files
artifacts: warehouse/artifacts        # plots, data docs
owners: "team:data"                   # owners of every asset in the Dagster UI (comma list)
schedule_cron: "0 3 * * *"            # nightly run when the Dagster daemon is up (segmint ui)
# An operational Postgres instead of (or beside) landing files: `segmint ingest
# --from-postgres`, and every run. The DSN stays in the env var, never in this file.
# source:
#   dsn_env: SEGMINT_SOURCE_DSN       # export SEGMINT_SOURCE_DSN=postgresql://user:pw@host/db
#   db_schema: public
#   tables:                           # contract table: {table: source name, cursor: column}
#     orders: {cursor: updated_at}
#     customers: {cursor: updated_at}
#     products: {}                    # no cursor: read whole each time
"""

NEXT_COMMANDS = (
    "segmint generate --out landing   # sample data (or copy your own files into landing/)",
    "segmint run                      # ingest, dbt, checks, models, exports, publish",
    "segmint ui                       # the Dagster UI on http://127.0.0.1:3000",
)


def dbt_dir(warehouse: Path) -> Path:
    """Where dbt writes for this warehouse: target (manifest, parse state), logs, run folders."""
    return warehouse.resolve().parent / "dbt"


def dbt_manifest(warehouse: Path) -> Path:
    """The prepared dbt manifest of this warehouse (written by the prepare step)."""
    return dbt_dir(warehouse) / "target" / "manifest.json"


@dataclass(frozen=True)
class InitResult:
    folder: Path
    written: list[Path]


def init_project(folder: Path) -> InitResult:
    """Write segmint.yaml, audiences/ (the examples) and landing/ into `folder`.

    Refuses a folder that already holds a segmint.yaml (nothing is overwritten); the
    folder itself may exist and hold other files.
    """
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise SegmintError(f"{folder} exists and is not a folder")
    config = folder / CONFIG_FILE
    if config.exists():
        raise SegmintError(f"{config} already exists: this folder is a segmint project already")
    audiences = folder / "audiences"
    if audiences.exists() and any(audiences.iterdir()):
        raise SegmintError(f"{audiences} already holds files; move them or pick another folder")
    examples = sorted(EXAMPLE_AUDIENCES.glob("*.yml"))
    if not examples:
        raise SegmintError(f"the example audiences are missing from {EXAMPLE_AUDIENCES}")
    written: list[Path] = []
    audiences.mkdir(parents=True, exist_ok=True)
    for src in examples:
        shutil.copyfile(src, audiences / src.name)
        written.append(audiences / src.name)
    (folder / "landing").mkdir(exist_ok=True)
    written.append(folder / "landing")
    tmp = config.with_name(f".{config.name}.tmp")
    tmp.write_text(CONFIG_TEMPLATE)
    tmp.replace(config)
    written.insert(0, config)
    return InitResult(folder, written)
