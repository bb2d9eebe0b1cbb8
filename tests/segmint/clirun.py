"""Run the `segmint` CLI in a subprocess, as a user does, on tiny hand-made data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ORDERS_HEADER = (
    "order_id,customer_id,ordered_at,status,channel,store_region,total_amount,"
    "discount_amount,currency"
)
# The tiny shop's data runs from 2026-01-05 to 2026-02-10.
ORDERS = [
    "o1,c1,2026-01-05 10:00:00,completed,web,north,10.50,0,EUR",
    "o2,c2,2026-01-20 09:30:00,completed,store,north,20.00,0,EUR",
    "o3,c1,2026-02-10 18:00:00,completed,web,south,7.25,0,EUR",
]
EARLIEST, LATEST = "2026-01-05", "2026-02-10"


# paths, and the engine an in-process run of another test exported (orchestration.runner)
PATH_VARS = ("WAREHOUSE", "PUBLISHED", "LANDING", "EXPORTS", "AUDIENCES", "ARTIFACTS", "AS_OF")
PATH_VARS += ("ENGINE", "SPARK_DIR")


def env(**extra: str) -> dict[str, str]:
    """The test environment without any SEGMINT_* path a developer may have set."""
    e = {k: v for k, v in os.environ.items() if k not in {f"SEGMINT_{p}" for p in PATH_VARS}}
    e.pop("SEGMINT_CONFIG", None)
    e.pop("FORCE_COLOR", None)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(extra)
    return e


def segmint(
    *args: str, cwd: Path, timeout: float = 120, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`segmint ARGS` in `cwd` (stdout and stderr are pipes, as in a script or CI log)."""
    return subprocess.run(
        [sys.executable, "-m", "segmint.cli", *args],
        cwd=cwd,
        env=env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_landing(folder: Path, rows: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text("\n".join([ORDERS_HEADER, *(rows or ORDERS)]) + "\n")
    return folder


def loaded_warehouse(root: Path) -> Path:
    """root/warehouse/segmint.duckdb with the tiny shop ingested (via the CLI)."""
    proc = segmint("ingest", str(write_landing(root / "in")), cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "warehouse" / "segmint.duckdb"


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str):
    """Exit `code`, no traceback, and exactly one line on stderr holding every needle."""
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    assert proc.returncode == code, (proc.returncode, both)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
