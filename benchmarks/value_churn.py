"""Does expected_purchases_90d (ml/value) improve churn's held-out ROC-AUC? Measured, not assumed.

On a warehouse built by benchmarks.value (customer_value_inputs, orders without events),
builds the churn marts, fits the value model at every churn cutoff (point in time: the
inputs mart at as_of - k * 90 days, its evaluation cutoff moved there), adds its
expected_purchases_90d to customer_360_history / customer_360 and trains churn with and
without it (same seed, same split). Writes benchmarks/results/value_churn.json.

    .venv/bin/python -m benchmarks.value_churn \
        --warehouse benchmarks/work/value/20000/segmint.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DBT_PROJECT = ROOT / "dbt_project"
HORIZON = 90
CUTOFFS = 3


def _dbt(warehouse: Path, select: str, vars: dict[str, Any]) -> None:
    from dbt.cli.main import dbtRunner

    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    work = warehouse.parent
    args = ["run", "--select", select, "--project-dir", str(DBT_PROJECT)]
    args += ["--profiles-dir", str(DBT_PROJECT), "--target-path", str(work / "target")]
    args += ["--log-path", str(work / "logs"), "--vars", json.dumps(vars), "--quiet"]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise SystemExit(f"dbt run {select} failed: {result.exception}")


def _read(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def expected_purchases(warehouse: Path, params: Any) -> pd.DataFrame:
    """(customer_id, cutoff_date, expected_purchases_90d) at the as-of and every churn cutoff."""
    from ml.value.model import fit, predict

    frames = []
    for k in range(1, CUTOFFS + 1):
        _dbt(warehouse, "customer_value_inputs", {"value_evaluation_days": k * HORIZON})
        inputs = _read(warehouse, "select * from marts.customer_value_inputs")
        kinds = ("as_of", "evaluation") if k == 1 else ("evaluation",)
        for kind in kinds:
            rows = inputs[inputs["cutoff_kind"] == kind].reset_index(drop=True)
            scores = predict(fit(rows, params), rows, params)
            frames.append(
                pd.DataFrame(
                    {
                        "customer_id": rows["customer_id"],
                        "cutoff_date": pd.to_datetime(rows["cutoff_date"]),
                        "expected_purchases_90d": scores["expected_purchases_90d"],
                    }
                )
            )
    _dbt(warehouse, "customer_value_inputs", {"value_evaluation_days": HORIZON})  # restore
    return pd.concat(frames, ignore_index=True)


def _auc(history, labels, current, params) -> dict[str, Any]:
    from ml.churn import train_and_score_churn

    result = train_and_score_churn(history, labels, current, params)
    base = result.run.baseline_metrics
    return {
        "roc_auc": result.metrics.get("roc_auc"),
        "pr_auc": result.metrics.get("pr_auc"),
        "brier": result.metrics.get("brier"),
        "recency_baseline_roc_auc": (base.get("recency") or {}).get("roc_auc"),
        "n_holdout": result.metrics.get("n"),
    }


def main() -> None:
    """Measure churn's held-out AUC with and without the value feature; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "work" / "pytensor")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from ml.value.compile_cache import use_compile_cache

    use_compile_cache(args.cache)
    from ml.churn import ChurnParams
    from ml.value import ValueParams

    t0 = time.perf_counter()
    _dbt(args.warehouse, "+customer_360 +customer_360_history +churn_labels", {})
    history = _read(args.warehouse, "select * from marts.customer_360_history")
    labels = _read(args.warehouse, "select * from marts.churn_labels")
    current = _read(args.warehouse, "select * from marts.customer_360")
    value = expected_purchases(args.warehouse, ValueParams(seed=args.seed))
    keys = ["customer_id", "cutoff_date"]
    history["cutoff_date"] = pd.to_datetime(history["cutoff_date"])
    with_value = history.merge(value, on=keys, how="left")
    now = value[value["cutoff_date"] == value["cutoff_date"].max()].drop(columns="cutoff_date")
    current_with = current.merge(now, on="customer_id", how="left")
    params = ChurnParams(horizon_days=HORIZON, seed=args.seed)
    result = {
        "benchmark": "value_churn",
        "warehouse": str(args.warehouse),
        "without_value_feature": _auc(history, labels, current, params),
        "with_expected_purchases_90d": _auc(with_value, labels, current_with, params),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = ROOT / "benchmarks" / "results" / "value_churn.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
