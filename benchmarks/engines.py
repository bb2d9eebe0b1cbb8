"""The same shop built by dbt on DuckDB and on Spark local[2], and the forecast fits in the
local process pool and fanned out on Spark (applyInPandas): wall, CPU and peak memory of
each, every step in its own monitored child process (benchmarks.monitor). Spark is expected
to be slower on 2 cores: it pays a JVM, a metastore and per-query planning that DuckDB does
not; the figures say by how much. Writes benchmarks/results/engines.json.

    .venv/bin/python -m benchmarks.engines                 # S0: 10k customers, 730 days
    .venv/bin/python -m benchmarks.engines --customers 500 --days 150
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DBT_PROJECT = ROOT / "dbt_project"
RESULTS = ROOT / "benchmarks" / "results" / "engines.json"
STEPS = ("dbt-duckdb", "dbt-spark", "forecast-local", "forecast-spark")


def _dbt(work: Path, target: str, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    argv = [*args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
    argv += ["--target", target, "--target-path", str(work / f"target-{target}")]
    argv += ["--log-path", str(work / f"logs-{target}"), "--quiet"]
    result = dbtRunner().invoke(argv)
    if not result.success:
        raise SystemExit(f"dbt {' '.join(args)} on {target} failed: {result.exception}")


def _session(work: Path) -> Any:
    from segmint import spark

    os.environ["SEGMINT_SPARK_CATALOG"] = "in-memory"
    return spark.session(work / "spark")


def _forecast(work: Path, on_spark: bool) -> dict[str, Any]:
    import duckdb

    from ml.forecast import ForecastParams, run_forecasting

    with duckdb.connect(str(work / "segmint.duckdb"), read_only=True) as con:
        demand = con.execute("select * from marts.daily_demand").df()
        orders = con.execute("select * from marts.daily_orders").df()
    params = ForecastParams(levels=("total", "region", "category"), n_jobs=2, top_n_plots=0)
    session = _session(work) if on_spark else None
    result = run_forecasting(demand, params, order_counts=orders, spark=session)
    return {k: result.run.metrics[k] for k in ("n_fits", "workers", "fit_seconds")}


def child(step: str, work: Path) -> dict[str, Any]:
    """One measured step (run in its own process by the parent)."""
    os.environ["SEGMINT_WAREHOUSE"] = str(work / "segmint.duckdb")
    if step == "dbt-duckdb":
        _dbt(work, "duckdb", "seed")
        _dbt(work, "duckdb", "run")
    elif step == "dbt-spark":
        from segmint import spark

        session = _session(work)
        spark.register_lake(session, spark.lake_dir(work / "spark"))
        _dbt(work, "spark", "seed")
        _dbt(work, "spark", "run")
    else:
        return _forecast(work, on_spark=step == "forecast-spark")
    return {}


def prepare(work: Path, customers: int, days: int) -> dict[str, Any]:
    """The shop generated, ingested, and its raw tables exported to the Spark lake."""
    from segmint import lake, spark
    from segmint.ingest import ingest
    from segmint.sample import generate

    # a fresh folder: the Spark steps use an in-memory catalog, and a managed table's folder
    # left by an earlier run makes Spark refuse to create the table again
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    rows = generate(work / "landing", customers=customers, days=days, seed=20, fmt="parquet")
    ingest(work / "landing", work / "segmint.duckdb")
    lake.export_raw(work / "segmint.duckdb", spark.lake_dir(work / "spark"))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "work" / "engines")
    parser.add_argument("--child", choices=STEPS)
    args = parser.parse_args(argv)
    work = args.work / f"{args.customers}x{args.days}"
    if args.child:
        out = child(args.child, work)
        (work / f"{args.child}.json").write_text(json.dumps(out))
        return
    from benchmarks.monitor import run_monitored

    rows = prepare(work, args.customers, args.days)
    report: dict[str, Any] = {"customers": args.customers, "days": args.days, "rows": rows}
    report["cpus"] = os.cpu_count()
    for step in STEPS:
        cmd = [sys.executable, "-m", "benchmarks.engines", "--child", step]
        cmd += ["--customers", str(args.customers), "--days", str(args.days)]
        cmd += ["--work", str(args.work)]
        measured = run_monitored(cmd, cwd=ROOT, log=work / f"{step}.log")
        if measured.returncode != 0:
            raise SystemExit(f"{step} failed (exit {measured.returncode}): see {work}/{step}.log")
        report[step] = {
            "wall_seconds": round(measured.seconds, 1),
            "cpu_seconds": measured.cpu_seconds,
            # wait4 misses what the child never reaps (Spark's JVM, killed at exit): the
            # sampled tree's CPU (every 0.2 s, the JVM and Python workers included)
            "tree_cpu_seconds": round(max((x.cpu for x in measured.samples), default=0.0), 1),
            "peak_rss_mb": measured.peak_mb(),
            "load_avg_1m": [round(measured.load_start[0], 2), round(measured.load_end[0], 2)],
            **json.loads((work / f"{step}.json").read_text()),
        }
        print(step, report[step], flush=True)
    report["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str))
    os.replace(tmp, RESULTS)
    md = RESULTS.with_suffix(".md")
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(markdown(report))
    os.replace(tmp, md)


def markdown(report: dict[str, Any]) -> str:
    """The report as a table: one row per step (wall, CPU, peak memory, load, fits)."""
    lines = [
        f"# Engines: {report['customers']:,} customers x {report['days']} days "
        f"({report['cpus']} cores, {report['measured_at']})",
        "",
        "Written by `python -m benchmarks.engines`; each step in its own monitored process.",
        "",
        "| step | wall s | CPU s (wait4) | CPU s (tree, sampled) | peak RSS MB "
        "| load 1m (start, end) | fits | workers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step in STEPS:
        r = report[step]
        lines.append(
            f"| {step} | {r['wall_seconds']} | {r['cpu_seconds']} | {r['tree_cpu_seconds']} "
            f"| {r['peak_rss_mb']} "
            f"| {r['load_avg_1m'][0]}, {r['load_avg_1m'][1]} | {r.get('n_fits', '')} "
            f"| {r.get('workers', '')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
