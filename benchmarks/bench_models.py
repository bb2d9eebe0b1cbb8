"""Benchmark segmentation and churn on generated data through the real chain.

generate -> ingest -> dbt (marts.customer_360, marts.customer_360_history, marts.fct_orders)
-> ml.segmentation.segment and ml.churn.train_and_score_churn. Reports the issue's targets
(churn ROC-AUC >= 0.80 and >= recency baseline + 0.05 on the held-out window, Brier below
both baselines, segmentation silhouette >= 0.25 and bootstrap ARI >= 0.8), timings and the
machine, and writes benchmarks/results/models.json. Targets are reported, not asserted.

    .venv/bin/python benchmarks/bench_models.py --customers 20000
    .venv/bin/python benchmarks/bench_models.py --warehouse path/to/segmint.duckdb
    .venv/bin/python benchmarks/bench_models.py --seed 7 --orders-only --only segmentation \
        --out benchmarks/results/models_seed7_orders_only.json

--orders-only keeps just the generated orders files (no customers, products, order lines or
events), the smallest input the product accepts. --only runs one of the two models.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.churn import ChurnParams, train_and_score_churn  # noqa: E402
from ml.segmentation import SegmentationParams, segment  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "models.json"
DBT_PROJECT = ROOT / "dbt_project"
TARGETS = {
    "churn_roc_auc_min": 0.80,
    "churn_auc_margin_over_recency": 0.05,
    "segmentation_silhouette_min": 0.25,
    "segmentation_bootstrap_ari_min": 0.8,
}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build_warehouse(
    workdir: Path,
    customers: int,
    days: int,
    seed: int,
    horizon: int,
    fmt: str = "csv",
    orders_only: bool = False,
) -> Path:
    """Generate landing files, ingest them and build the marts the models read."""
    from dbt.cli.main import dbtRunner

    from segmint.ingest import ingest
    from segmint.sample import generate

    landing, warehouse = workdir / "landing", workdir / "segmint.duckdb"
    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    rows = generate(landing, customers=customers, days=days, seed=seed, fmt=fmt)
    _log(f"generated {rows} in {time.perf_counter() - t:.0f}s")
    if orders_only:
        for folder in landing.iterdir():
            if folder.is_dir() and folder.name != "orders":
                shutil.rmtree(folder)
        _log("kept only the orders files")
    for stale in (warehouse, Path(f"{warehouse}.wal")):
        stale.unlink(missing_ok=True)
    t = time.perf_counter()
    ingest(landing, warehouse)
    _log(f"ingested in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    common = [
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        "--vars",
        json.dumps({"churn_horizon_days": horizon, "history_cutoffs": 3}),
    ]
    selection = ["--select", "+customer_360 +customer_360_history +churn_labels"]
    for command in (["seed"], ["run", *selection]):
        result = dbtRunner().invoke([*command, *common])
        if not result.success:
            raise SystemExit(f"dbt {command[0]} failed: {result.exception}")
    _log(f"dbt built the marts in {time.perf_counter() - t:.0f}s")
    return warehouse


def read_frames(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """customer_360, customer_360_history and churn labels, as the lead's assets read them."""
    with duckdb.connect(str(warehouse)) as con:
        current = con.execute("select * from marts.customer_360").df()
        history = con.execute("select * from marts.customer_360_history").df()
        labels = con.execute("select * from marts.churn_labels").df()
    return current, history, labels


def _round(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "positive_rate", "roc_auc", "pr_auc", "brier", "log_loss", "lift_top_decile")
    return {k: metrics.get(k) for k in keys}


def data_profile(current: pd.DataFrame, history: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """What the generated data looks like to the models (to explain a missed target)."""
    null_share = current.isna().mean().round(3)
    by_cutoff = labels.groupby("cutoff_date")["churned"].agg(["size", "mean"])
    return {
        "customers": len(current),
        "history_rows": len(history),
        "purchasers_share": float((current["frequency"].fillna(0) >= 1).mean()),
        "all_null_columns": sorted(null_share[null_share == 1.0].index.tolist()),
        "category_share_columns": sum(c.startswith("cat_share_") for c in current.columns),
        "label_rate_by_cutoff": {
            str(pd.Timestamp(k).date()): {"n": int(r["size"]), "churn_rate": round(r["mean"], 4)}
            for k, r in by_cutoff.iterrows()
        },
    }


def main() -> None:
    """Run the benchmark and write benchmarks/results/models.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "models")
    parser.add_argument("--warehouse", type=Path, help="use an existing built warehouse")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--format", default="csv", choices=("csv", "parquet"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--orders-only", action="store_true", help="keep only orders files")
    parser.add_argument("--only", choices=("all", "segmentation", "churn"), default="all")
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.warehouse:
        warehouse = args.warehouse
    else:
        warehouse = build_warehouse(
            args.workdir,
            args.customers,
            args.days,
            args.seed,
            args.horizon,
            args.format,
            args.orders_only,
        )
    build_s = time.perf_counter() - t0
    current, history, labels = read_frames(warehouse)
    _log(f"read {len(current)} customers, {len(history)} history rows, {len(labels)} labels")

    result: dict[str, Any] = {
        "data": {
            "source": str(warehouse) if args.warehouse else "generated",
            "customers_requested": None if args.warehouse else args.customers,
            "days": None if args.warehouse else args.days,
            "seed": args.seed,
            "orders_only": bool(args.orders_only),
            **data_profile(current, history, labels),
        }
    }
    checks: dict[str, bool] = {}
    if args.only in ("all", "segmentation"):
        result["segmentation"] = run_segmentation(current, args.seed, args.threads)
        checks.update(result["segmentation"].pop("checks"))
    if args.only in ("all", "churn"):
        result["churn"] = run_churn(history, labels, current, args)
        checks.update(result["churn"].pop("checks"))
    result.update(
        {
            "targets": TARGETS,
            "checks": checks,
            "timing": {"build_seconds": build_s, "total_seconds": time.perf_counter() - t0},
            "machine": {
                "nproc": os.cpu_count(),
                "load_average": os.getloadavg(),
                "python": platform.python_version(),
            },
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_round(result), indent=2, default=str))
    _log(f"wrote {args.out}")
    summary: dict[str, Any] = {"checks": checks}
    if "churn" in result:
        summary.update(
            {
                k: result["churn"][k]
                for k in ("model", "recency_baseline", "rfm_logistic_baseline", "seconds")
            }
        )
    if "segmentation" in result:
        summary["segmentation"] = {
            k: result["segmentation"][k]
            for k in ("method", "k", "silhouette", "bootstrap_ari_mean", "seconds")
        }
    print(json.dumps(_round(summary), indent=2, default=str))


def _timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    """Run fn(*args); return its result, wall seconds and CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_segmentation(current: pd.DataFrame, seed: int, threads: int) -> dict[str, Any]:
    """Segment customer_360 with the default parameters; metrics, segments and timing."""
    seg, wall, cpu = _timed(segment, current, SegmentationParams(seed=seed, threads=threads))
    _log(f"segmentation in {wall:.1f}s (cpu {cpu:.1f}s): k={seg.metrics['k']}")
    m = seg.metrics
    return {
        "method": m.get("method"),
        "k": m["k"],
        "silhouette": m["silhouette"],
        "bootstrap_ari_mean": m["bootstrap_ari_mean"],
        "bootstrap_ari_min": m["bootstrap_ari_min"],
        "rfm_grid_baseline_silhouette": json.loads(seg.run.to_row()["baseline_metrics"])[
            "rfm_grid_silhouette"
        ],
        "cluster_dimensions": m.get("cluster_dimensions"),
        "features": m.get("features"),
        "dropped_correlated": m.get("dropped_correlated"),
        "k_search": m["search"],
        "segments": seg.profiles[["segment_id", "name", "size", "share"]].to_dict("records"),
        "seconds": wall,
        "cpu_seconds": cpu,
        "checks": {
            "silhouette>=0.25": bool(m["silhouette"] >= TARGETS["segmentation_silhouette_min"]),
            "bootstrap_ari>=0.8": bool(
                m["bootstrap_ari_mean"] >= TARGETS["segmentation_bootstrap_ari_min"]
            ),
        },
    }


def run_churn(
    history: pd.DataFrame, labels: pd.DataFrame, current: pd.DataFrame, args: Any
) -> dict[str, Any]:
    """Train, evaluate and score churn with the default parameters; metrics and timing."""
    params = ChurnParams(horizon_days=args.horizon, seed=args.seed, threads=args.threads)
    churn, wall, cpu = _timed(train_and_score_churn, history, labels, current, params)
    _log(f"churn in {wall:.1f}s (cpu {cpu:.1f}s)")
    baselines = json.loads(churn.run.to_row()["baseline_metrics"])
    window = json.loads(churn.run.to_row()["data_window"])
    model = _summary(churn.metrics)
    recency = _summary(baselines.get("recency", {}))
    rfm = _summary(baselines.get("rfm_logistic", {}))
    auc, rec_auc = model["roc_auc"] or float("nan"), recency["roc_auc"] or float("nan")
    return {
        "model": model,
        "recency_baseline": recency,
        "rfm_logistic_baseline": rfm,
        "data_window": window,
        "calibration_split": churn.metrics.get("calibration_split"),
        "final_model": {
            k: churn.metrics.get(k)
            for k in (
                "training_rows_available",
                "training_rows",
                "tree_rows",
                "early_stopping_rows",
                "calibration_rows",
                "subsampled",
                "gbm_iterations",
            )
        },
        "holdout_model": churn.metrics.get("holdout_model"),
        "risk_bands": churn.metrics.get("risk_band_counts"),
        "fairness_flags": churn.metrics.get("fairness_flags"),
        "features": churn.metrics.get("features"),
        "example_drivers": churn.scores.loc[churn.scores["risk_band"] == "high", "top_drivers"]
        .head(5)
        .tolist(),
        "seconds": wall,
        "cpu_seconds": cpu,
        "checks": {
            "churn_roc_auc>=0.80": bool(auc >= TARGETS["churn_roc_auc_min"]),
            "churn_auc>=recency+0.05": bool(
                auc >= rec_auc + TARGETS["churn_auc_margin_over_recency"]
            ),
            "churn_brier<both_baselines": bool(
                model["brier"] < min(recency["brier"] or np.inf, rfm["brier"] or np.inf)
            ),
        },
    }


if __name__ == "__main__":
    main()
