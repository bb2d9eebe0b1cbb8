"""The reliability tests' pipeline run, as a `segmint run` subprocess (the user's command).

`baseline` is one full run on the sample landing data with stdout/stderr captured; tests
that mutate a warehouse work on a copy of its folder (`copy_root`). The in-process run twice
in a row with an analyst reading throughout (`twice`, tests/conftest.py) is shared with the
integration tests; idempotency and concurrent-reader tests read its results.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import TEST_ENV

REPO = Path(__file__).resolve().parents[2]
SEGMINT = Path(sys.executable).with_name("segmint")
RUN_TIMEOUT = 900


@dataclass
class Run:
    """A pipeline root folder (landing, warehouse, exports) and what its run printed."""

    root: Path
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "segmint.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "warehouse" / "published.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def artifacts(self) -> Path:
        return self.root / "warehouse" / "artifacts"

    @property
    def dagster_home(self) -> Path:
        return self.root / "warehouse" / "dagster"


def segmint_env(root: Path) -> dict[str, str]:
    """Environment of a `segmint` subprocess whose every path lives under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMINT_", "DAGSTER_"))}
    env.update(TEST_ENV)
    env.update(
        {
            "SEGMINT_WAREHOUSE": str(root / "warehouse" / "segmint.duckdb"),
            "SEGMINT_LANDING": str(root / "landing"),
            "SEGMINT_EXPORTS": str(root / "exports"),
            "SEGMINT_AUDIENCES": str(REPO / "audiences"),
            "SEGMINT_ARTIFACTS": str(root / "warehouse" / "artifacts"),
            "DAGSTER_TELEMETRY_DISABLED": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def segmint(root: Path, *args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Run the segmint CLI against `root` and capture its output."""
    return subprocess.run(
        [str(SEGMINT), *args],
        cwd=REPO,
        env=segmint_env(root),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def pipeline(root: Path) -> Run:
    """`segmint run` on `root`; fails the test with its output when the run fails."""
    started = time.monotonic()
    proc = segmint(root, "run")
    run = Run(root, proc.stdout, proc.stderr, time.monotonic() - started)
    tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"segmint run failed (exit {proc.returncode}):\n{tail}"
    # DuckDB's nanobind teardown report (segmint.cli._quiet_teardown) stays off the terminal
    assert "nanobind" not in proc.stdout + proc.stderr, tail
    return run


def new_root(base: Path, landing: Path) -> Path:
    """A root folder with a private copy of the landing data."""
    base.mkdir(parents=True, exist_ok=True)
    shutil.copytree(landing, base / "landing")
    return base


def copy_root(run: Run, dest: Path) -> Run:
    """A copy of a run's whole folder (warehouse, published file, exports, Dagster home)."""
    shutil.copytree(run.root, dest)
    return Run(dest, run.stdout, run.stderr, run.seconds)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, sample_landing) -> Run:
    """One full `segmint run` on the sample data (treat as read-only; copy to mutate)."""
    from tests.fingerprint import fingerprint

    root = new_root(tmp_path_factory.mktemp("reliability") / "baseline", sample_landing)
    run = pipeline(root)
    # as the run left it: a test that (wrongly) mutates the fixture cannot change what the
    # fresh-run check compares (tests/reliability/test_fresh_run.py)
    run.extra["fingerprint"] = fingerprint(run.warehouse)
    _BASELINE.append(run.root)
    return run


# `baseline` is shared read-only: every file under its folder is compared (size and change
# time) around each setup, call and teardown here, so a test or fixture that writes to it
# fails by name instead of changing what later tests in its worker read.
_BASELINE: list[Path] = []


def _state(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _unchanged_baseline(item: pytest.Item, phase: str):
    before = _state(_BASELINE[0]) if _BASELINE else None
    yield
    if before is None:
        return
    after = _state(_BASELINE[0])
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        pytest.fail(f"{item.nodeid} ({phase}) changed the read-only baseline run: {changed[:10]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    yield from _unchanged_baseline(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield from _unchanged_baseline(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield from _unchanged_baseline(item, "teardown")
