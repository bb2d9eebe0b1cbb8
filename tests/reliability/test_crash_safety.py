"""Crash safety: `segmint run` killed with SIGKILL at a random moment leaves a readable
published snapshot, no partial export files and a warehouse the next run recovers from.

A trial starts `segmint run` as a subprocess in its own process group (Dagster, dbt and
forecast workers included), kills the whole group after a seeded random delay, reads the
stage that was running from the Dagster event log in <warehouse dir>/dagster, and checks:
the previously published file opens read-only and matches its manifest; every visible
export file is listed, with its checksum, in a manifest (temp files are hidden and only
of dead processes, swept by the next export); the working warehouse opens. After the
trials the next run must succeed and publish. benchmarks/bench_crash.py runs more trials.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from segmint.fs import file_sha256, pid_alive
from segmint.warehouse import read_manifest, verify_published
from tests.reliability.conftest import REPO, SEGMINT, copy_root, pipeline, segmint_env

pytestmark = pytest.mark.timeout(1800)  # waits for the shared run, then kills and reruns

SEED = 20260601
TEST_DELAYS = (0.0, 10.0)  # seconds after the first step started: ingest, checks, dbt
EXPORT_TEMP = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]+$")  # segmint/fs.py
PUBLISH_TEMP = re.compile(r"^.+\.tmp-(\d+)(\.wal)?$")  # segmint/warehouse/snapshot.py publish()


def _run_ids(home: Path) -> list[str]:
    """Run ids in a Dagster instance, newest first."""
    import dagster as dg

    if not (home / "dagster.yaml").exists():
        return []
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        return [r.run_id for r in instance.get_runs()]
    finally:
        instance.dispose()


def _steps_started(home: Path, run_id: str) -> int:
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_START, limit=1
        ).records
        return len(records)
    finally:
        instance.dispose()


def running_stage(warehouse_dir: Path, known_runs: set[str]) -> str:
    """Steps of the killed run that had started and not finished, or where it was."""
    import dagster as dg

    home = warehouse_dir / "dagster"
    new = [r for r in _run_ids(home) if r not in known_runs]
    if not new:
        return "startup (before the Dagster run was created)"
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        started: dict[str, None] = {}
        done: set[str] = set()
        for entry in instance.all_logs(new[0]):
            ev = entry.dagster_event
            if ev is None or not ev.step_key:
                continue
            if ev.event_type == dg.DagsterEventType.STEP_START:
                started[ev.step_key] = None
            elif ev.event_type in (
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
                dg.DagsterEventType.STEP_SKIPPED,
            ):
                done.add(ev.step_key)
        running = [s for s in started if s not in done]
        if running:
            return ",".join(running)
        if started:
            return f"between steps (after {list(started)[-1]})"
        return "run started, no step yet"
    finally:
        instance.dispose()


def stale_slot_claims(warehouse_dir: Path) -> list[str]:
    """Concurrency-pool slots still claimed by runs that are not running any more.

    Every DuckDB-writing step claims the `duckdb_writer` pool slot (limit 1) in the Dagster
    instance; a SIGKILLed run never frees it, and the next run then waits for it forever.
    Called when no segmint process runs, so every claim is stale.
    """
    import dagster as dg

    home = warehouse_dir / "dagster"
    if not (home / "dagster.yaml").exists():
        return []
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        storage = instance.event_log_storage
        return [
            f"pool {key} slot still claimed by killed run {slot.run_id} ({slot.step_key})"
            for key in sorted(storage.get_concurrency_keys())
            for slot in storage.get_concurrency_info(key).claimed_slots
        ]
    finally:
        instance.dispose()


def kill_run_after(root: Path, delay: float, after_first_step: bool = False) -> dict:
    """Start `segmint run` on root, SIGKILL its process group after `delay` seconds
    (counted from the start, or from its first step when `after_first_step`)."""
    home = root / "warehouse" / "dagster"
    known = set(_run_ids(home))
    proc = subprocess.Popen(
        [str(SEGMINT), "run"],
        cwd=REPO,
        env=segmint_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started = time.monotonic()
    if after_first_step:
        while proc.poll() is None and time.monotonic() - started < 600:
            new = [r for r in _run_ids(home) if r not in known]
            if new and _steps_started(home, new[0]):
                break
            time.sleep(0.5)
        delay += time.monotonic() - started
    try:
        proc.wait(timeout=max(delay - (time.monotonic() - started), 0.01))
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    elapsed = time.monotonic() - started
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return {
        "delay": round(delay, 2),
        "killed_at": round(elapsed, 2),
        "finished_before_kill": finished,
        "returncode": proc.returncode,
        "stage": "finished" if finished else running_stage(root / "warehouse", known),
    }


def export_problems(exports: Path, allow_dead_temps: bool) -> list[str]:
    """Visible export files not covered by a manifest (or not matching it), and temp files
    (of live processes always; of dead ones unless allowed: the next export sweeps them)."""
    problems: list[str] = []
    if not exports.exists():
        return problems
    listed: dict[Path, str] = {}
    for manifest in exports.rglob("*.manifest.json"):
        payload = json.loads(manifest.read_text())
        for entry in payload["files"]:
            listed[manifest.parent / entry["name"]] = entry["sha256"]
    for path in sorted(p for p in exports.rglob("*") if p.is_file()):
        temp = EXPORT_TEMP.match(path.name)
        if temp:
            if not allow_dead_temps or pid_alive(int(temp.group(1))):
                problems.append(f"temp file {path}")
            continue
        if path.name.endswith(".manifest.json"):
            continue
        if path not in listed:
            problems.append(f"no manifest lists {path}")
        elif file_sha256(path) != listed[path]:
            problems.append(f"checksum differs from manifest: {path}")
    return problems


def publish_temps(warehouse_dir: Path) -> list[Path]:
    return sorted(p for p in warehouse_dir.glob("published.duckdb.tmp-*") if p.is_file())


def check_after_kill(root: Path, manifest_before: dict | None) -> list[str]:
    """What a crash must not break (empty list = all fine)."""
    problems: list[str] = []
    published = root / "warehouse" / "published.duckdb"
    if manifest_before is not None:
        try:
            bad = verify_published(published)
            if bad:
                problems.append(f"published file inconsistent: {bad}")
            counts = read_manifest(published)
            if counts.get("marts.customer_360", 0) <= 0:
                problems.append("published file lost customer_360")
        except Exception as exc:  # noqa: BLE001 - any failure to read is the finding
            problems.append(f"published file unreadable: {exc!r}")
    problems += export_problems(root / "exports", allow_dead_temps=True)
    try:
        with duckdb.connect(str(root / "warehouse" / "segmint.duckdb")) as con:
            con.execute("select count(*) from raw.load_ledger").fetchone()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"working warehouse does not open: {exc!r}")
    return problems


def check_after_recovery(root: Path) -> list[str]:
    """After the next successful run: consistent snapshot, clean exports, no stale temps."""
    problems: list[str] = []
    published = root / "warehouse" / "published.duckdb"
    bad = verify_published(published)
    if bad:
        problems.append(f"published file inconsistent: {bad}")
    problems += export_problems(root / "exports", allow_dead_temps=False)
    problems += [f"stale publish temp {p}" for p in publish_temps(root / "warehouse")]
    return problems


def test_killed_runs_leave_consistent_state_and_next_run_recovers(baseline, tmp_path) -> None:
    run = copy_root(baseline, tmp_path / "root")
    rng = random.Random(SEED)
    trials = []
    for _ in range(2):
        before = read_manifest(run.published)
        mtime = run.published.stat().st_mtime_ns
        trial = kill_run_after(run.root, rng.uniform(*TEST_DELAYS), after_first_step=True)
        trial["problems"] = check_after_kill(run.root, before)
        trials.append(trial)
        print("crash trial:", trial)
        assert not trial["finished_before_kill"], trial
        # Killed before publishing: the previous snapshot is still the one in place.
        if run.published.stat().st_mtime_ns == mtime:
            assert read_manifest(run.published) == before
        # The killed run's writer-pool slot may still be claimed here; the next
        # `segmint run` must release it itself (else it would wait forever).
    # Each kill hit a run in progress (a step had started), not the process startup.
    assert all(not t["stage"].startswith("startup") for t in trials), trials
    recovered = pipeline(run.root)
    assert "publish__snapshot" in recovered.stdout + recovered.stderr
    assert check_after_recovery(run.root) == []
    assert stale_slot_claims(run.root / "warehouse") == []
    assert read_manifest(run.published)["marts.customer_360"] == 400
    # Nothing a crash must not break was broken.
    assert [t["problems"] for t in trials] == [[], []], trials
