"""Benchmark the uplift model on generated past campaigns, through the real chain.

generate (with the export history of past campaigns) -> ingest -> the history recorded in
activation.* -> dbt (marts.uplift_training, marts.discount_sensitivity, marts.customer_360)
-> ml.uplift.run_uplift. Reports the held-out Qini coefficient and AUUC (purchase and
revenue) next to random targeting, per-audience Qini, the offline policy comparison (realised
uplift of the top 30% of each run by uplift / by churn risk / everyone, ml.uplift.policy),
timings and peak memory, and writes benchmarks/results/uplift.json. Nothing is asserted:
the figures are reported.

    .venv/bin/python benchmarks/uplift.py --customers 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.uplift import UpliftParams, qini_coefficient, run_uplift  # noqa: E402
from ml.uplift.policy import POLICIES, policy_table  # noqa: E402
from ml.uplift.qini import random_auuc  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "uplift.json"
DBT_PROJECT = ROOT / "dbt_project"
SELECT = "+uplift_training +discount_sensitivity +customer_360"
CURRENT = """
    select c.*, d.discount_share_index, d.discount_purchase_rate_lift
    from marts.customer_360 c
    left join marts.discount_sensitivity d on d.customer_id = c.customer_id
"""


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build(workdir: Path, customers: int, days: int, seed: int) -> tuple[Path, dict[str, float]]:
    """Generate, ingest, record the export history, build the marts; timings per step."""
    from dbt.cli.main import dbtRunner

    from segmint.ingest import ingest
    from segmint.sample import generate
    from segmint.sample.history import record_export_history

    landing, history, warehouse = workdir / "landing", workdir / "history", workdir / "w.duckdb"
    times: dict[str, float] = {}
    t = time.perf_counter()
    generate(landing, customers=customers, days=days, seed=seed, fmt="parquet",
             export_history=history)  # fmt: skip
    times["generate_s"] = time.perf_counter() - t
    for stale in (warehouse, Path(f"{warehouse}.wal")):
        stale.unlink(missing_ok=True)
    t = time.perf_counter()
    ingest(landing, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        _log(f"recorded {record_export_history(con, history)} past export runs")
    times["ingest_s"] = time.perf_counter() - t
    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    common = [
        *("--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)),
        *("--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")),
    ]
    t = time.perf_counter()
    for command in (["seed"], ["run", "--select", SELECT]):
        result = dbtRunner().invoke([*command, *common])
        if not result.success:
            raise SystemExit(f"dbt {command[0]} failed: {result.exception}")
    times["dbt_s"] = time.perf_counter() - t
    return warehouse, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "uplift")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--reuse", action="store_true", help="Reuse the built warehouse")
    args = parser.parse_args()
    if args.reuse:
        warehouse, times = args.workdir / "w.duckdb", {}
    else:
        warehouse, times = build(args.workdir, args.customers, args.days, args.seed)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        training = con.execute("select * from marts.uplift_training").df()
        current = con.execute(CURRENT).df()
    learners = {}
    for learner in ("t", "x"):  # x (the default) last: per_audience is its
        t = time.perf_counter()
        result = run_uplift(training, current, UpliftParams(seed=args.seed, learner=learner))
        times[f"uplift_{learner}_s"] = time.perf_counter() - t
        learners[learner] = dict(result.run.metrics)
    held = result.holdout
    per_audience = {}
    for audience, rows in held.groupby("audience"):
        y, tr = rows["purchased"].astype(float), rows["treated"].astype(bool)
        per_audience[str(audience)] = {
            "n": len(rows),
            "qini_purchased": qini_coefficient(y, tr, rows["uplift_purchase"]),
            "random_auuc_purchased": random_auuc(y, tr),
        }
    report = {
        "customers": args.customers,
        "days": args.days,
        "seed": args.seed,
        "training_rows": len(training),
        "treated": int(training["treated"].sum()),
        "control": int((~training["treated"].astype(bool)).sum()),
        "purchase_rate_treated": float(training.loc[training["treated"], "purchased"].mean()),
        "purchase_rate_control": float(training.loc[~training["treated"], "purchased"].mean()),
        "metrics_by_learner": learners,
        "random_targeting": dict(result.run.baseline_metrics),
        "per_audience": per_audience,
        "policies": {  # of the default learner (x)
            name: {
                k: result.run.metrics[f"policy_{name}_{k}"]
                for k in ("n", "uplift", "ci_low", "ci_high", "per_1000")
            }
            for name in POLICIES
        },
        "policy_churn_risk_by": result.run.metrics["policy_churn_risk_by"],
        "scores": len(result.scores),
        "times": {k: round(v, 1) for k, v in times.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "cpus": os.cpu_count(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True, default=float) + "\n")
    print(json.dumps(report, indent=2, sort_keys=True, default=float))
    for learner, metrics in learners.items():
        print(f"\n{learner}-learner\n{policy_table(metrics)}")


if __name__ == "__main__":
    main()
