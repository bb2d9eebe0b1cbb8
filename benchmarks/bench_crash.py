"""Benchmark: SIGKILL `segmint run` at random moments; does everything survive?

One baseline run publishes a snapshot. Each trial then starts `segmint run`, kills its
whole process group after a seeded random delay spread over the measured run time, logs
the stage that was running (from the Dagster event log), checks what a crash must not
break (published file readable and consistent with its manifest, export files complete
and listed in a manifest, working warehouse opens), and runs the pipeline again, which
must succeed and publish with no stale temp files left. A trial survives when every check
passes. Writes benchmarks/results/crash.json.

    .venv/bin/python -m benchmarks.bench_crash --trials 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from segmint.warehouse import read_manifest  # noqa: E402
from tests.conftest import SAMPLE, TEST_ENV  # noqa: E402
from tests.reliability.conftest import segmint  # noqa: E402
from tests.reliability.test_crash_safety import (  # noqa: E402
    check_after_kill,
    check_after_recovery,
    kill_run_after,
    stale_slot_claims,
)

RESULTS = REPO / "benchmarks" / "results" / "crash.json"


def _run(root: Path, timeout: float = 1800) -> tuple[bool, float, str]:
    started = time.monotonic()
    try:
        proc = segmint(root, "run", timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - started, f"timed out after {timeout:.0f}s"
    tail = (proc.stdout + proc.stderr)[-1500:]
    return proc.returncode == 0, time.monotonic() - started, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=SAMPLE["customers"])
    parser.add_argument("--days", type=int, default=SAMPLE["days"])
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args(argv)
    os.environ.update(TEST_ENV)

    from segmint.sample import generate

    work = Path(tempfile.mkdtemp(prefix="segmint-crash-"))
    root = work / "root"
    (root / "landing").mkdir(parents=True)
    generate(
        root / "landing",
        customers=args.customers,
        days=args.days,
        seed=SAMPLE["seed"],
        dirt_rate=SAMPLE["dirt_rate"],
    )
    ok, baseline_s, tail = _run(root)
    if not ok:
        print(tail)
        raise SystemExit("baseline run failed")
    print(f"baseline run: {baseline_s:.1f}s", flush=True)
    rng = random.Random(args.seed)
    trials = []
    for i in range(args.trials):
        published = root / "warehouse" / "published.duckdb"
        before = read_manifest(published) if published.exists() else None
        delay = rng.uniform(0.5, baseline_s * 1.05)
        trial = kill_run_after(root, delay)
        trial["problems_after_kill"] = check_after_kill(root, before)
        # A slot left claimed by the killed run is released by the next `segmint run`.
        trial["stale_pool_slot"] = bool(stale_slot_claims(root / "warehouse"))
        ok, seconds, tail = _run(root)
        trial["slot_released"] = not stale_slot_claims(root / "warehouse")
        trial["next_run_ok"] = ok
        trial["next_run_s"] = round(seconds, 1)
        trial["problems_after_next_run"] = check_after_recovery(root) if ok else [tail]
        trial["survived"] = (
            ok
            and trial["slot_released"]
            and not trial["problems_after_kill"]
            and not trial["problems_after_next_run"]
        )
        trials.append(trial)
        print(
            f"trial {i + 1}/{args.trials}: killed at {trial['killed_at']:.1f}s in "
            f"{trial['stage']}: {'survived' if trial['survived'] else 'FAILED'} "
            f"{trial['problems_after_kill'] + trial['problems_after_next_run']}",
            flush=True,
        )
    result = {
        "trials": len(trials),
        "survived": sum(t["survived"] for t in trials),
        "killed_before_finishing": sum(not t["finished_before_kill"] for t in trials),
        "stale_pool_slot": sum(t["stale_pool_slot"] for t in trials),
        "survived_apart_from_stale_slot": sum(
            t["next_run_ok"]
            and not t["problems_after_next_run"]
            and not [p for p in t["problems_after_kill"] if "slot still claimed" not in p]
            for t in trials
        ),
        "baseline_run_s": round(baseline_s, 1),
        "sample": {"customers": args.customers, "days": args.days},
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "details": trials,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"{result['survived']}/{result['trials']} trials survived; wrote {RESULTS}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    return 0 if result["survived"] == result["trials"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
