"""The measured work of the pipeline benchmark, one command per child process.

`python -m benchmarks` runs each of these in its own process so it can sample that
process tree's memory from outside; each writes its result as JSON to --result.

    python -m benchmarks.child generate --out DIR --customers N --days D --result F
    python -m benchmarks.child run --root DIR --landing DIR --result F
    python -m benchmarks.child floor --warehouse FILE --sql FILE --result F
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    from segmint.sample import generate

    started = time.time()
    rows = generate(args.out, args.customers, args.days, seed=args.seed, fmt=args.fmt)
    return {"rows": rows, "started": started, "ended": time.time()}


def _settings(root: Path, landing: Path) -> Any:
    from segmint.settings import Settings

    return Settings(
        warehouse=root / "warehouse" / "segmint.duckdb",
        landing=landing,
        exports=root / "exports",
        audiences=REPO / "audiences",
        artifacts=root / "warehouse" / "artifacts",
    )


def _run_events(run_id: str) -> dict[str, Any]:
    """Step start/end timestamps and dbt per-node timings from the run's Dagster event log."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    steps: dict[str, dict[str, Any]] = {}
    dbt_nodes: dict[str, float] = {}
    failed_checks: list[str] = []
    try:
        for entry in instance.all_logs(run_id):
            ev = entry.dagster_event
            if ev is None:
                continue
            kind = ev.event_type
            if kind == dg.DagsterEventType.STEP_START:
                steps[ev.step_key] = {"start": entry.timestamp, "end": None, "status": "running"}
            elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                step = steps.setdefault(ev.step_key, {"start": entry.timestamp})
                step["end"] = entry.timestamp
                step["status"] = "ok" if kind == dg.DagsterEventType.STEP_SUCCESS else "failed"
            elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
                mat = ev.event_specific_data.materialization
                duration = mat.metadata.get("Execution Duration")
                if duration is not None:
                    dbt_nodes[mat.asset_key.to_user_string()] = float(duration.value)
            elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                data = ev.event_specific_data
                if not data.passed:
                    failed_checks.append(f"{data.asset_key.to_user_string()}:{data.check_name}")
    finally:
        instance.dispose()
    return {"steps": steps, "dbt_nodes": dbt_nodes, "failed_checks": failed_checks}


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.console import Console

    from orchestration.runner import run_pipeline

    settings = _settings(args.root, args.landing)
    started = time.time()
    summary = run_pipeline(settings, console=Console(stderr=True, force_terminal=False))
    ended = time.time()
    return {
        "success": summary.success,
        "error": summary.error,
        "run_id": summary.run_id,
        "seconds": summary.seconds,
        "started": started,
        "ended": ended,
        "materialized": summary.materialized,
        **_run_events(summary.run_id),
    }


def _floor(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    sql = args.sql.read_text()
    con = duckdb.connect(str(args.warehouse))
    try:
        started = time.time()
        con.execute(sql)
        ended = time.time()
    finally:
        con.close()
    return {"started": started, "ended": ended}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.child", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--customers", type=int, required=True)
    gen.add_argument("--days", type=int, required=True)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--fmt", default="csv")
    run = sub.add_parser("run")
    run.add_argument("--root", type=Path, required=True)
    run.add_argument("--landing", type=Path, required=True)
    flo = sub.add_parser("floor")
    flo.add_argument("--warehouse", type=Path, required=True)
    flo.add_argument("--sql", type=Path, required=True)
    for p in (gen, run, flo):
        p.add_argument("--result", type=Path, required=True)
    args = ap.parse_args(argv)
    handler = {"generate": _generate, "run": _run, "floor": _floor}[args.command]
    result = handler(args)
    args.result.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
