"""Shared pipeline runs for the reliability tests (run as `segmint run` subprocesses).

`baseline` is one full run on the sample landing data with stdout/stderr captured; tests
that mutate a warehouse work on a copy of its folder (`copy_root`). `fresh_twice` runs the
same landing data into a new warehouse twice in a row while an analyst process reads the
published file, and keeps checksums of the first run for the idempotency comparison.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEST_ENV

REPO = Path(__file__).resolve().parents[2]
SEGMINT = Path(sys.executable).with_name("segmint")
RUN_TIMEOUT = 900

# Wall-clock columns: when a row was loaded / scored / trained / exported, not what it says.
# They differ between two runs of the same inputs by construction, so checksums skip them.
RUNTIME_COLUMNS = frozenset(
    {
        "_loaded_at",  # raw/staging load time, carried into facts for incremental models
        "scored_at",  # ml.churn_scores / ml.customer_segments: when the model scored
        "trained_at",  # ml.model_runs: when the model was trained
        "computed_at",  # ml tables that stamp their own computation time
        "created_at",
        "dbt_updated_at",  # snapshot bookkeeping (only wall clock when updated_at is null)
    }
)


# Outputs that depend on the previous run by design, so a rerun on the same warehouse
# differs from the first run: ml.model_runs is an append-only history, ml.feature_drift
# compares with the previous run's profile, segment_profiles.matched_previous says whether
# a segment was matched to the previous run's.
STATEFUL_TABLES = frozenset({"ml.model_runs", "ml.feature_drift"})
STATEFUL_COLUMNS = frozenset({"matched_previous"})


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


def scalar(db: Path, sql: str, params: list | None = None, read_only: bool = True):
    with duckdb.connect(str(db), read_only=read_only) as con:
        row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


TIMING_KEYS = ("seconds", "duration")


def _strip(value):
    if isinstance(value, dict):
        return {
            k: _strip(v) for k, v in value.items() if not any(t in k.lower() for t in TIMING_KEYS)
        }
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, float):  # last-bit noise of threaded reductions (KMeans inertia)
        return float(f"{value:.9g}")
    return value


def _strip_timings(text: str | None) -> str | None:
    """A JSON document without keys that measure elapsed time (fit_seconds, duration_s),
    floats rounded to 9 significant digits like the DOUBLE columns."""
    if text is None:
        return None
    return json.dumps(_strip(json.loads(text)), sort_keys=True)


def table_checksums(
    db: Path, schemas: tuple[str, ...], exclude: frozenset[str] = RUNTIME_COLUMNS
) -> dict[str, tuple[int, str]]:
    """(row count, order-independent checksum) per base table of `schemas`.

    Each row is rendered as text over its columns in name order (minus `exclude`), hashed,
    and the per-row hashes are sorted and hashed again, so row order does not matter.
    Doubles are rounded to 9 significant digits to ignore last-bit noise of parallel sums.
    """
    out: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        con.create_function(
            "json_strip_timings", _strip_timings, ["VARCHAR"], "VARCHAR", null_handling="special"
        )
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in ({','.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in tables:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() and table_schema = ? "
                "and table_name = ? order by column_name",
                [schema, table],
            ).fetchall()
            parts = []
            for name, type_ in cols:
                if name in exclude:
                    continue
                ref = f'"{name}"'
                if type_ == "JSON":
                    # Durations measured inside metrics JSON are wall-clock too.
                    ref = f"json_strip_timings({ref})"
                if type_ in ("DOUBLE", "FLOAT", "REAL"):
                    ref = f"round({ref}, 9 - cast(ceil(log10(abs({ref}) + 1e-300)) as int))"
                parts.append(f"coalesce(cast({ref} as varchar), '<null>')")
            row_text = " || '|' || ".join(parts) if parts else "''"
            rows = con.execute(
                f'select md5({row_text}) as h from "{schema}"."{table}" order by h'
            ).fetchall()
            digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
            out[f"{schema}.{table}"] = (len(rows), digest)
    return out


READER = textwrap.dedent(
    """
    import duckdb, os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    errors = reads = waits = 0
    while not os.path.exists(stop):
        if not os.path.exists(path):
            waits += 1
            time.sleep(0.1)
            continue
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                n = con.execute("select count(*) from marts.customer_360").fetchone()[0]
                m = con.execute(
                    "select count(*) from ml.churn_scores s "
                    "join marts.customer_360 c using (customer_id)"
                ).fetchone()[0]
                assert n > 0 and m > 0, (n, m)
            finally:
                con.close()
            reads += 1
        except Exception as exc:
            errors += 1
            print("ERROR", repr(exc), flush=True)
        time.sleep(0.05)
    print("RESULT", errors, reads, waits, flush=True)
    """
)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, sample_landing) -> Run:
    """One full `segmint run` on the sample data (treat as read-only; copy to mutate)."""
    root = new_root(tmp_path_factory.mktemp("reliability") / "baseline", sample_landing)
    return pipeline(root)


@pytest.fixture(scope="session")
def fresh_twice(tmp_path_factory, sample_landing) -> Run:
    """Same landing into a new warehouse, run twice, with an analyst reading throughout.

    extra: checksums of marts/ml after each run, the reader's output and counts.
    """
    root = new_root(tmp_path_factory.mktemp("reliability") / "fresh", sample_landing)
    stop = root / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(root / "warehouse" / "published.duckdb"), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = pipeline(root)
        checks_first = table_checksums(first.warehouse, ("marts", "ml"))
        stateless = RUNTIME_COLUMNS | STATEFUL_COLUMNS
        rerun_first = table_checksums(first.warehouse, ("marts", "ml"), stateless)
        second = pipeline(root)
        rerun_second = table_checksums(second.warehouse, ("marts", "ml"), stateless)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    result = [line for line in out.splitlines() if line.startswith("RESULT")]
    errors, reads, waits = (int(x) for x in result[-1].split()[1:]) if result else (-1, 0, 0)
    second.extra = {
        "first_checksums": checks_first,
        "rerun_first_checksums": rerun_first,
        "rerun_second_checksums": rerun_second,
        "reader_output": out,
        "reader_errors": errors,
        "reader_reads": reads,
        "reader_waits": waits,
        "first_seconds": first.seconds,
    }
    return second
