"""Benchmark the customer-value step: generated data -> dbt customer_value_inputs -> ml.value.

generate (orders, order lines, products, customers; no events: the value model never reads
them) -> ingest -> dbt (+customer_value_inputs) -> ml.value.run_customer_value, in a fresh
process so PyTensor's compile (cached under --cache) and the imports are measured. Reports
wall time per stage, peak memory, and the time-split evaluation against run-rate, and writes
benchmarks/results/value_<customers>.json. The S1 target (100k customers: value step <= 30 s
wall) is reported, not asserted.

    .venv/bin/python -m benchmarks.value --customers 100000
    .venv/bin/python -m benchmarks.value --customers 20000 --transaction-model beta_geo
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DBT_PROJECT = ROOT / "dbt_project"
TARGET_SECONDS = 30.0


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build_inputs(workdir: Path, customers: int, days: int, seed: int) -> Path:
    """Generate, ingest and build marts.customer_value_inputs; returns the warehouse path."""
    from dbt.cli.main import dbtRunner

    from segmint.ingest import ingest
    from segmint.sample import generate

    landing, warehouse = workdir / "landing", workdir / "segmint.duckdb"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    t = time.perf_counter()
    generate(landing, customers=customers, days=days, seed=seed)
    shutil.rmtree(landing / "events", ignore_errors=True)
    _log(f"generated in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    ingest(landing, warehouse)
    _log(f"ingested in {time.perf_counter() - t:.0f}s")
    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    common = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    common += ["--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
    t = time.perf_counter()
    for command in (["seed"], ["run", "--select", "+customer_value_inputs"]):
        result = dbtRunner().invoke([*command, *common])
        if not result.success:
            raise SystemExit(f"dbt {command[0]} failed: {result.exception}")
    _log(f"dbt built customer_value_inputs in {time.perf_counter() - t:.0f}s")
    return warehouse


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_value(warehouse: Path, cache: Path, transaction_model: str) -> dict[str, Any]:
    """The value step as the asset runs it: read the mart, fit, evaluate, score."""
    t0, cpu0, kids0 = time.perf_counter(), time.process_time(), _children_cpu()
    from ml.value.compile_cache import use_compile_cache

    use_compile_cache(cache)
    import duckdb

    from ml.value import ValueParams
    from ml.value.run import run_customer_value

    imported = time.perf_counter() - t0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        inputs = con.execute("select * from marts.customer_value_inputs").df()
    read = time.perf_counter() - t0 - imported
    result = run_customer_value(inputs, ValueParams(transaction_model=transaction_model))
    wall = time.perf_counter() - t0
    metrics = dict(result.run.metrics)
    return {
        "rows": {"inputs": len(inputs), "scored": len(result.scores)},
        "seconds": {
            "imports": round(imported, 2),
            "read": round(read, 2),
            "evaluation_fit": metrics.pop("evaluation_seconds"),
            "model_total": metrics.pop("seconds"),
            "value_step_wall": round(wall, 2),
            "value_step_cpu": round(time.process_time() - cpu0, 2),
            # PyTensor compiles C code in gcc subprocesses: their CPU is not the process's
            "compile_children_cpu": round(_children_cpu() - kids0, 2),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "metrics": metrics,
        "baseline": result.run.baseline_metrics,
        "calibration_by_decile": result.calibration.round(2).to_dict("records"),
    }


def main() -> None:
    """Run the benchmark and write its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "value")
    parser.add_argument("--warehouse", type=Path, help="use a warehouse with the mart built")
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "work" / "pytensor")
    parser.add_argument("--transaction-model", default="modified_beta_geo")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    warm = args.cache.exists() and any(args.cache.iterdir())
    warehouse = args.warehouse or build_inputs(
        args.workdir / str(args.customers), args.customers, args.days, args.seed
    )
    _log("value step")
    result = {
        "benchmark": "value",
        "params": {**vars(args), "compile_cache_warm": warm},
        **run_value(warehouse, args.cache, args.transaction_model),
        "target_seconds": TARGET_SECONDS,
        "machine": {"nproc": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
    }
    result["meets_target"] = result["seconds"]["value_step_wall"] <= TARGET_SECONDS
    out = args.out or ROOT / "benchmarks" / "results" / f"value_{args.customers}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    _log(f"wrote {out}: {json.dumps(result['seconds'])}")


if __name__ == "__main__":
    main()
