"""Benchmark the forecast's cost by shape: thousands of category x region series.

    /work/main/.venv/bin/python -m benchmarks.forecast_series --series 5000 --jobs 2

Generates a grocery-like shop at series level (no order files, no dbt: the step measured
is the forecast): ``--regions`` stores of Zipf-distributed size, each in a country (60%
DE, the rest AT/CH/NL/FR; holidays follow it), ``--series / --regions`` departments of
Zipf-distributed popularity with their own yearly seasonality, baskets spanning ~3
departments on average. Per day and store the orders are Poisson (weekly and yearly
pattern, a trend); each order holds each department independently with the department's
(store-perturbed) probability, so a department's orders per store-day are binomial and the
distinct orders per store-day are the Poisson count: marts.daily_demand (day x department
x store, an order once per department) and marts.daily_orders (day x store x country,
distinct orders) are built exactly as dbt builds them.

Runs ``run_forecasting`` with the default parameters (Prophet within max_prophet_fits,
shares of the parent for the tail) and reports wall time, CPU seconds, fits and methods,
and backtest accuracy per level. "Today's method" (Prophet for every series, US holidays)
is scored on the total and on ``--compare-sample`` random series of every other level (all
of them would take hours), on the same series, cutoffs and targets, so the accuracy of
both is compared like with like. Writes benchmarks/results/forecast_series.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast import ForecastParams, backtest, build_series, run_forecasting

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "forecast_series.json"
WEEKLY = np.array([0.95, 0.9, 0.92, 1.0, 1.15, 1.35, 0.7])
COUNTRIES = ("DE", "AT", "CH", "NL", "FR")
COUNTRY_P = np.array([0.6, 0.15, 0.1, 0.1, 0.05])


def generate(
    n_regions: int, n_categories: int, days: int, orders_per_day: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily_demand, daily_orders) of a generated shop (see the module docstring)."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp("2025-06-30")
    dates = pd.date_range(end - pd.Timedelta(days=days - 1), end, freq="D")
    t = np.arange(days)
    region_size = 1.0 / np.arange(1, n_regions + 1) ** 0.8
    region_size *= rng.lognormal(0, 0.3, n_regions)
    region_size /= region_size.sum()
    yearly = 1 + 0.15 * np.sin(2 * np.pi * (dates.dayofyear.to_numpy() - 80) / 365.25)
    trend = 1 + 0.1 * t / days
    shape = WEEKLY[dates.dayofweek] * yearly * trend  # (days,)
    lam = orders_per_day * region_size[None, :] * shape[:, None]  # (days, regions)
    orders = rng.poisson(lam)
    popularity = 1.0 / np.arange(1, n_categories + 1) ** 0.9
    p_cat = np.minimum(0.9, 3.0 * popularity / popularity.sum())  # ~3 departments a basket
    phase = rng.uniform(0, 2 * np.pi, n_categories)
    amp = rng.uniform(0, 0.4, n_categories)
    season = 1 + amp[None, :] * np.sin(
        2 * np.pi * dates.dayofyear.to_numpy()[:, None] / 365.25 + phase[None, :]
    )  # (days, categories)
    mix = rng.lognormal(0, 0.4, (n_regions, n_categories))  # store assortment
    p = np.clip(p_cat[None, None, :] * season[:, None, :] * mix[None, :, :], 0, 0.95)
    counts = rng.binomial(orders[:, :, None], p)  # (days, regions, categories)
    regions = np.array([f"store_{i:03d}" for i in range(n_regions)])
    categories = np.array([f"dept_{j:02d}" for j in range(n_categories)])
    grid_d, grid_r, grid_c = np.meshgrid(
        np.arange(days), np.arange(n_regions), np.arange(n_categories), indexing="ij"
    )
    demand = pd.DataFrame(
        {
            "demand_date": dates.date[grid_d.ravel()],
            "category": categories[grid_c.ravel()],
            "store_region": regions[grid_r.ravel()],
            "orders": counts.ravel(),
            "units": 2 * counts.ravel(),
            "revenue": 12.5 * counts.ravel(),
        }
    )
    country = rng.choice(COUNTRIES, size=n_regions, p=COUNTRY_P)
    od, orr = np.meshgrid(np.arange(days), np.arange(n_regions), indexing="ij")
    daily_orders = pd.DataFrame(
        {
            "demand_date": dates.date[od.ravel()],
            "store_region": regions[orr.ravel()],
            "customer_country": country[orr.ravel()],
            "orders": orders.ravel(),
        }
    )
    return demand, daily_orders


def _level_scores(backtests: pd.DataFrame, keys: set[str], model: str | None) -> pd.DataFrame:
    """(series_key, cutoff, level, mase, smape, coverage) of keys; model None: own method."""
    rows = backtests[backtests["series_key"].isin(keys)]
    if model is not None:
        rows = rows[rows["model"] == model]
    return rows[["series_key", "cutoff", "level", "model", "mase", "smape", "coverage"]]


def compare_with_today(
    result: Any,
    demand: pd.DataFrame,
    counts: pd.DataFrame,
    params: ForecastParams,
    sample: int,
    seed: int,
) -> dict[str, Any]:
    """Today's method (every series Prophet, US holidays) vs the run, on a sample per level."""
    flags = result.flags
    rng = np.random.default_rng(seed)
    keys = {"total"}
    for level, group in flags.groupby("level"):
        if level != "total":
            pick = rng.choice(group["series_key"].to_numpy(), min(sample, len(group)), False)
            keys |= set(pick)
    series = build_series(demand, params.levels, params.metric, order_counts=counts)
    subset = {k: series[k] for k in sorted(keys)}
    regions = {k.split("region=")[1] for k in series if "region=" in k}
    today = replace(
        params,
        max_prophet_fits=None,
        prophet_min_nonzero_share=0.0,
        country_holidays="US",
        region_holidays={r: "US" for r in regions},
    )
    t = time.perf_counter()
    old = backtest(subset, today)
    seconds = time.perf_counter() - t
    method = flags.set_index("series_key")["method"]
    new_rows = result.backtests[result.backtests["series_key"].isin(keys)]
    new_rows = new_rows[new_rows["model"] == new_rows["series_key"].map(method)]
    old_rows = old[old["model"] != "seasonal_naive"]
    joined = new_rows.merge(
        old_rows, on=["series_key", "cutoff"], suffixes=("_new", "_today")
    ).replace([np.inf, -np.inf], np.nan)
    out: dict[str, Any] = {"today_backtest_seconds": round(seconds, 1), "by_level": {}}
    for level, g in joined.groupby("level_new"):
        out["by_level"][level] = {
            "series": int(g["series_key"].nunique()),
            "evals": int(len(g)),
            "mase_new": round(float(g["mase_new"].mean()), 4),
            "mase_today": round(float(g["mase_today"].mean()), 4),
            "smape_new": round(float(g["smape_new"].mean()), 3),
            "smape_today": round(float(g["smape_today"].mean()), 3),
            "coverage_new": round(float(g["coverage_new"].mean()), 3),
            "coverage_today": round(float(g["coverage_today"].mean()), 3),
            "new_methods": {k: int(v) for k, v in g["model_new"].value_counts().items()},
        }
    return out


def _progress(label: str):
    state = {"last": 0.0}

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - state["last"] > 15:
            state["last"] = now
            print(f"{label}: {done}/{total}", flush=True)

    return report


def main() -> None:
    """Run the benchmark and write the results JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=5000, help="category x region series")
    ap.add_argument("--regions", type=int, default=100)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--orders-per-day", type=float, default=6000.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--compare-sample", type=int, default=20, help="series per level; 0: skip")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    import prophet  # noqa: F401  (import first: it resets the 'prophet' logger level)

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
    n_categories = max(1, round(args.series / args.regions))
    t = time.perf_counter()
    demand, counts = generate(args.regions, n_categories, args.days, args.orders_per_day, args.seed)
    gen_seconds = time.perf_counter() - t
    print(f"generated {len(demand)} daily_demand rows in {gen_seconds:.1f}s", flush=True)

    params = ForecastParams(n_jobs=args.jobs, seed=args.seed)
    load_before = os.getloadavg()
    cpu0 = os.times()
    t = time.perf_counter()
    result = run_forecasting(demand, params, order_counts=counts, progress=_progress("run"))
    wall = time.perf_counter() - t
    cpu1 = os.times()
    metrics = result.run.metrics
    flags = result.flags
    report: dict[str, Any] = {
        "shape": {
            "regions": args.regions,
            "categories": n_categories,
            "category_region_series": int((flags["level"] == "category_region").sum()),
            "series": int(len(flags)),
            "days": args.days,
            "orders_per_day": args.orders_per_day,
            "daily_demand_rows": len(demand),
            "mean_departments_per_basket": round(
                float(demand["orders"].sum() / counts["orders"].sum()), 2
            ),
        },
        "machine": {
            "nproc": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        },
        "jobs": args.jobs,
        "wall_seconds": round(wall, 1),
        "fit_seconds": metrics["fit_seconds"],
        "parent_cpu_seconds": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 1),
        "fit_cpu_seconds": metrics["fit_cpu_seconds"],  # fits: parent + workers + CmdStan
        "prophet_fits": metrics["n_fits"],
        "max_prophet_fits": params.max_prophet_fits,
        "methods": metrics["methods"],
        "methods_by_level": {
            lv: {k: int(v) for k, v in g["method"].value_counts().items()}
            for lv, g in flags.groupby("level")
        },
        "accuracy_by_level": metrics["by_level"],
        "baseline_by_level": result.run.baseline_metrics["seasonal_naive"]["by_level"],
        "holidays": result.run.params["holidays_by_level"]["total"],
    }
    headline = ("shape", "wall_seconds", "prophet_fits", "methods")
    print(json.dumps({k: report[k] for k in headline}, indent=1), flush=True)
    if args.compare_sample:
        report["vs_today"] = compare_with_today(
            result, demand, counts, params, args.compare_sample, args.seed
        )
        print(json.dumps(report["vs_today"], indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
