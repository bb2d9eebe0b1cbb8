"""Scale benchmark of the whole pipeline: per-stage wall time and peak memory, the SQL floor,
an incremental daily run and S0 -> S1 scaling (`make bench` / `python -m benchmarks`).

For each scale it
  1. generates sample data (S0 = 10k customers, S1 = 100k, S2 = 1M on request),
  2. runs the whole pipeline (`segmint run`: ingest -> dbt -> checks -> models -> targeting
     -> exports -> publish) in a child process, sampling the RSS of that process tree every
     0.2 s; stage boundaries come from the run's Dagster event log (STEP_START /
     STEP_SUCCESS), so each stage gets its own wall time and peak memory,
  3. runs benchmarks/floor.sql (customer_360 and daily_demand by hand, one DuckDB
     connection) on a copy of the built warehouse and checks it agrees with dbt's marts,
  4. lands one more day of orders, order lines and events for existing customers and runs
     the scheduled pipeline again (the incremental daily run).
Results go to benchmarks/results/pipeline.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.daily import age_loads, land_next_day
from benchmarks.dbt_nodes import dbt_profile
from benchmarks.floor import compare_floor
from benchmarks.monitor import Measured, run_monitored
from benchmarks.report import STAGES, markdown

__all__ = ["STAGES", "age_loads", "land_next_day", "main", "markdown", "run_floor", "stage_of"]
from segmint.project import dbt_manifest

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
FLOOR_SQL = REPO / "benchmarks" / "floor.sql"


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    days: int = 730


SCALES = {
    "S0": Scale("S0", 10_000),  # ~1.1M events
    "S1": Scale("S1", 100_000),  # ~11M events (the standard scale)
    "S2": Scale("S2", 1_000_000),  # ~110M events: only on request (--scales S2)
}

# Report order of the stages; every Dagster step maps to one of them (see stage_of).

TARGETS = {
    "s1_pipeline_seconds": 90.0,
    "s1_peak_mb": 4096.0,
    "s1_incremental_peak_mb": 4096.0,
    "dbt_floor_ratio": 1.5,
    "incremental_share": 0.10,
    "s1_s0_time_ratio": 10.0,
}

VERSIONED = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "dagster",
    "dagster-dbt",
    "prophet",
    "scikit-learn",
    "great-expectations",
    "pandas",
    "pyarrow",
)


# ------------------------------------------------------------------------------- helpers
def stage_of(step_key: str) -> str:
    """The report stage of a Dagster step key."""
    if step_key in ("raw_tables", "postgres_extract"):
        return "ingest"
    if "_gx_" in step_key or step_key.startswith("gx_"):
        return "checks"
    if step_key == "dbt_models":
        return "dbt"
    if step_key == "dbt_targeting":
        return "targeting"
    if "forecast" in step_key:
        return "forecast"
    if "segment" in step_key:
        return "segmentation"
    if "churn" in step_key:
        return "churn"
    if step_key.startswith("activation") or "audience" in step_key or "holdout" in step_key:
        return "export"
    if step_key.startswith("publish"):
        return "publish"
    return f"other:{step_key}"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for dist in VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(ram, 1),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
    # The child reads only the settings the benchmark passes (no stray SEGMINT_* paths).
    for key in ("SEGMINT_WAREHOUSE", "SEGMINT_PUBLISHED", "SEGMINT_LANDING", "SEGMINT_EXPORTS"):
        env.pop(key, None)
    return env


def _child(args: list[str], workdir: Path, log: Path) -> tuple[Measured, dict[str, Any]]:
    """Run `python -m benchmarks.child ARGS` under the memory monitor; return its result."""
    result = workdir / f"result-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "benchmarks.child", *args, "--result", str(result)]
    measured = run_monitored(cmd, env=_child_env(), cwd=workdir, log=log)
    if measured.returncode != 0 or not result.exists():
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"{' '.join(args[:1])} failed (exit {measured.returncode}):\n{tail}")
    data = json.loads(result.read_text())
    result.unlink()
    return measured, data


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# ------------------------------------------------------------------------------- stages
def generate_data(scale: Scale, landing: Path, workdir: Path, log: Path) -> dict[str, Any]:
    args = ["generate", "--out", str(landing), "--customers", str(scale.customers)]
    args += ["--days", str(scale.days)]
    measured, data = _child(args, workdir, log)
    sizes = {
        d.name: sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        for d in sorted(landing.iterdir())
        if d.is_dir()
    }
    return {
        "seconds": round(measured.seconds, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "rows": data["rows"],
        "bytes": sizes,
        "total_bytes": sum(sizes.values()),
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


def run_pipeline_measured(root: Path, landing: Path, workdir: Path, log: Path) -> dict[str, Any]:
    """One `segmint run` in a child process: per-stage wall time and peak tree RSS."""
    measured, data = _child(["run", "--root", str(root), "--landing", str(landing)], workdir, log)
    if not data["success"]:
        raise RuntimeError(f"pipeline run failed: {data['error']}")
    stages: dict[str, dict[str, Any]] = {}
    steps = []
    for key, step in sorted(data["steps"].items(), key=lambda kv: kv[1]["start"]):
        start, end = step["start"], step["end"] or step["start"]
        name = stage_of(key)
        peak = measured.peak_mb(start, end)
        cpu = measured.cpu_between(start, end)
        steps.append(
            {
                "step": key,
                "stage": name,
                "seconds": round(end - start, 2),
                "cpu_seconds": cpu,
                "peak_mb": peak,
            }
        )
        agg = stages.setdefault(
            name, {"seconds": 0.0, "cpu_seconds": 0.0, "peak_mb": 0.0, "steps": 0}
        )
        agg["seconds"] += end - start
        agg["cpu_seconds"] += cpu
        agg["peak_mb"] = max(agg["peak_mb"], peak)
        agg["steps"] += 1
    for agg in stages.values():
        agg["seconds"] = round(agg["seconds"], 2)
        agg["cpu_seconds"] = round(agg["cpu_seconds"], 2)
    in_steps = sum(s["seconds"] for s in steps)
    return {
        "seconds": round(measured.seconds, 2),  # child wall: imports + definitions + run
        "run_seconds": round(data["seconds"], 2),  # execute_in_process wall (RunSummary)
        "overhead_seconds": round(measured.seconds - in_steps, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "stages": stages,
        "steps": steps,
        "dbt_nodes": data["dbt_nodes"],
        "failed_checks": data["failed_checks"],
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


# ------------------------------------------------------------------------------- floor
def run_floor(warehouse: Path, workdir: Path, log: Path) -> dict[str, Any]:
    """floor.sql on a copy of the built warehouse (raw.* as ingested, marts.* for comparison)."""
    copy = workdir / "warehouse_for_floor.duckdb"
    shutil.copyfile(warehouse, copy)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    args = ["floor", "--warehouse", str(copy), "--sql", str(FLOOR_SQL)]
    measured, data = _child(args, workdir, log)
    agreement = compare_floor(copy)
    copy.unlink()
    return {
        "seconds": round(data["ended"] - data["started"], 2),
        "process_seconds": round(measured.seconds, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "agreement": agreement,
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


# ------------------------------------------------------------------------------- dbt profile
# ------------------------------------------------------------------------------- per scale
def bench_scale(
    scale: Scale, workdir: Path, *, floor: bool, incremental: bool, log: Path
) -> dict[str, Any]:
    root = workdir / scale.name
    if root.exists():
        shutil.rmtree(root)
    landing = root / "landing"
    landing.mkdir(parents=True)
    warehouse = root / "warehouse" / "segmint.duckdb"
    print(f"[{scale.name}] generating {scale.customers} customers x {scale.days} days", flush=True)
    out: dict[str, Any] = {"scale": scale.name, "customers": scale.customers, "days": scale.days}
    out["generate"] = generate_data(scale, landing, root, log)
    print(f"[{scale.name}] generate {out['generate']['seconds']}s; running pipeline", flush=True)
    run = run_pipeline_measured(root, landing, root, log)
    out["pipeline"] = run
    out["dbt_manifest"] = str(dbt_manifest(warehouse))
    out["dbt_profile"] = dbt_profile(run, dbt_manifest(warehouse))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out["raw_rows"] = {
            t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
            for t in ("customers", "products", "orders", "order_items", "events")
        }
    finally:
        con.close()
    out["warehouse_bytes"] = warehouse.stat().st_size
    print(f"[{scale.name}] pipeline {run['seconds']}s, peak {run['peak_mb']} MiB", flush=True)
    if floor:
        out["floor"] = run_floor(warehouse, root, log)
        dbt_s = run["stages"]["dbt"]["seconds"]
        out["floor"]["dbt_ratio"] = round(dbt_s / out["floor"]["seconds"], 2)
        lineage_s = out["dbt_profile"]["floor_lineage_models_seconds"]
        out["floor"]["lineage_models_ratio"] = round(lineage_s / out["floor"]["seconds"], 2)
        print(
            f"[{scale.name}] floor {out['floor']['seconds']}s "
            f"(dbt/floor {out['floor']['dbt_ratio']}x, agree={out['floor']['agreement']['agree']})",
            flush=True,
        )
    if incremental:
        aged = age_loads(warehouse)
        landed = land_next_day(warehouse, landing)
        inc = run_pipeline_measured(root, landing, root, log)
        inc["landed"] = landed
        inc["aged_tables"] = aged
        inc["share_of_full"] = round(inc["seconds"] / run["seconds"], 3)
        out["incremental"] = inc
        print(
            f"[{scale.name}] incremental {inc['seconds']}s "
            f"({100 * inc['share_of_full']:.1f}% of the full run)",
            flush=True,
        )
    shutil.rmtree(root / "landing", ignore_errors=True)
    return out


# ------------------------------------------------------------------------------- report
def summarize(scales: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ratios and target checks across scales."""
    summary: dict[str, Any] = {}
    s0, s1 = scales.get("S0"), scales.get("S1")
    if s0 and s1:
        summary["s1_s0_time_ratio"] = round(
            s1["pipeline"]["seconds"] / s0["pipeline"]["seconds"], 2
        )
        summary["s1_s0_cpu_ratio"] = round(
            s1["pipeline"]["cpu_seconds"] / s0["pipeline"]["cpu_seconds"], 2
        )
        summary["s1_s0_memory_ratio"] = round(
            s1["pipeline"]["peak_mb"] / s0["pipeline"]["peak_mb"], 2
        )
        summary["s1_s0_events_ratio"] = round(
            s1["raw_rows"]["events"] / max(1, s0["raw_rows"]["events"]), 2
        )
        summary["s1_s0_stage_time_ratios"] = {
            st: round(
                s1["pipeline"]["stages"][st]["seconds"] / s0["pipeline"]["stages"][st]["seconds"], 2
            )
            for st in s1["pipeline"]["stages"]
            if st in s0["pipeline"]["stages"] and s0["pipeline"]["stages"][st]["seconds"] > 0
        }
    checks: dict[str, dict[str, Any]] = {}
    if s1:
        checks["s1_pipeline_seconds"] = {"value": s1["pipeline"]["seconds"]}
        checks["s1_peak_mb"] = {"value": s1["pipeline"]["peak_mb"]}
        if "floor" in s1:
            checks["dbt_floor_ratio"] = {"value": s1["floor"]["dbt_ratio"]}
        if "incremental" in s1:
            checks["incremental_share"] = {"value": s1["incremental"]["share_of_full"]}
            checks["s1_incremental_peak_mb"] = {"value": s1["incremental"]["peak_mb"]}
    if "s1_s0_time_ratio" in summary:
        checks["s1_s0_time_ratio"] = {"value": summary["s1_s0_time_ratio"]}
    for key, check in checks.items():
        check["target"] = TARGETS[key]
        check["met"] = check["value"] <= TARGETS[key]
    summary["targets"] = checks
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--scales", default="S0,S1", help="comma list of S0, S1, S2 (default S0,S1)")
    ap.add_argument("--customers", type=int, help="one custom scale instead (e.g. a smoke run)")
    ap.add_argument("--days", type=int, default=730, help="days of history of a custom scale")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor.sql comparison")
    ap.add_argument("--no-incremental", action="store_true", help="skip the daily run")
    ap.add_argument("--workdir", type=Path, help="where data and warehouses go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder for pipeline.{json,md}")
    ap.add_argument(
        "--render",
        action="store_true",
        help="only re-derive the summary and pipeline.md from an existing pipeline.json",
    )
    args = ap.parse_args(argv)

    if args.render:
        report = json.loads((args.results / "pipeline.json").read_text())
        for scale in report["scales"].values():
            manifest = Path(scale["dbt_manifest"]) if scale.get("dbt_manifest") else None
            scale["dbt_profile"] = dbt_profile(scale["pipeline"], manifest)
            if "floor" in scale:
                lineage_s = scale["dbt_profile"]["floor_lineage_models_seconds"]
                scale["floor"]["lineage_models_ratio"] = round(
                    lineage_s / scale["floor"]["seconds"], 2
                )
        return write_report(report, args.results)

    if args.customers:
        chosen = [Scale("custom", args.customers, args.days)]
    else:
        chosen = []
        for name in filter(None, (s.strip().upper() for s in args.scales.split(","))):
            if name not in SCALES:
                ap.error(f"unknown scale {name!r} (choose from {', '.join(SCALES)})")
            chosen.append(SCALES[name])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "bench.log"
    print(f"work folder {workdir} (log: {log})", flush=True)
    report: dict[str, Any] = {
        "benchmark": "pipeline",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": _load(),
        "targets": TARGETS,
        "scales": {},
    }
    try:
        for scale in chosen:
            report["scales"][scale.name] = bench_scale(
                scale, workdir, floor=not args.no_floor, incremental=not args.no_incremental,
                log=log,
            )  # fmt: skip
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_end"] = _load()
    return write_report(report, args.results)


def write_report(report: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Add the cross-scale summary, write pipeline.json and pipeline.md, print the table."""
    report["summary"] = summarize(report["scales"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(report)
    (folder / "pipeline.md").write_text(md)
    print(md)
    return report


if __name__ == "__main__":
    main()
