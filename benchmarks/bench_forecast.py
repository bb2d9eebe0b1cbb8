"""Benchmark the demand forecast: accuracy against seasonal naive, and parallel vs sequential.

Daily demand comes from (first that applies) ``--warehouse FILE`` (reads marts.daily_demand),
``--landing DIR`` (a DuckDB query over raw orders/order_items/products files that mirrors the
dbt mart), or freshly generated data (``--customers/--days/--seed``). Reports the total
daily-orders backtest (MASE, sMAPE, 80% coverage) for Prophet and seasonal naive, a per-level
summary, interval coverage per level and cutoff (calibrated, and for the total series also
uncalibrated), wall time of the forecast step (all series) in parallel against a plain
sequential Prophet loop, an uncertainty_samples sweep, and the machine (nproc, RAM, load).

The machine may be shared, so the speed comparison runs interleaved repeats and records the
load average with every sample, and it also reports CPU seconds (process + worker processes +
their CmdStan children), which do not depend on the load: the plain loop's CPU seconds over
the busiest worker's CPU seconds is the speedup the pool would give on idle cores.
Writes benchmarks/results/forecast.json.

    .venv/bin/python benchmarks/bench_forecast.py --landing /tmp/landing --jobs 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.forecast import (  # noqa: E402
    ForecastParams,
    backtest,
    backtest_cutoffs,
    build_series,
    forecast_all,
    forecast_series,
    run_forecasting,
    score_forecast,
)

RESULTS = ROOT / "benchmarks" / "results" / "forecast.json"


def _source(folder: Path, table: str) -> str:
    """A DuckDB table function reading every file of one raw table in a landing folder."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _belongs(p, table))
    if not files:
        raise SystemExit(f"no {table} files under {folder}")
    suffix = files[0].suffix.lower()
    paths = "[" + ", ".join(f"'{p}'" for p in files if p.suffix.lower() == suffix) + "]"
    if suffix == ".parquet":
        return f"read_parquet({paths}, union_by_name = true)"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return f"read_json({paths}, format = 'newline_delimited', union_by_name = true)"
    return f"read_csv({paths}, all_varchar = true, union_by_name = true, header = true)"


def _belongs(path: Path, table: str) -> bool:
    """Landing layout rule: name equals T, starts with T_, or sits in a folder named T."""
    stem = path.name.split(".")[0]
    return stem == table or stem.startswith(f"{table}_") or path.parent.name == table


def daily_demand_from_landing(folder: Path) -> pd.DataFrame:
    """Completed-order demand per day x category x region, zero-filled (like the dbt mart)."""
    sql = f"""
    with orders as (
        select distinct on (order_id)
            cast(order_id as varchar) as order_id,
            cast(try_cast(ordered_at as timestamp) as date) as order_date,
            coalesce(nullif(trim(cast(store_region as varchar)), ''), 'unknown') as store_region
        from {_source(folder, "orders")}
        where lower(trim(cast(status as varchar))) = 'completed'
          and try_cast(ordered_at as timestamp) is not null
          and try_cast(ordered_at as timestamp) <= now()
        order by order_id
    ),
    products as (
        select distinct on (product_id)
            cast(product_id as varchar) as product_id,
            coalesce(nullif(trim(cast(category as varchar)), ''), 'unknown') as category
        from {_source(folder, "products")}
        order by product_id
    ),
    lines as (
        select distinct
            cast(i.order_id as varchar) as order_id,
            coalesce(p.category, 'unknown') as category
        from {_source(folder, "order_items")} as i
        left join products as p on cast(i.product_id as varchar) = p.product_id
    ),
    observed as (
        select o.order_date, coalesce(l.category, 'unknown') as category, o.store_region,
               count(distinct o.order_id) as orders
        from orders as o left join lines as l on o.order_id = l.order_id
        group by all
    ),
    spine as (
        select cast(range as date) as demand_date
        from range((select min(order_date) from orders),
                   (select max(order_date) from orders) + interval 1 day, interval 1 day)
    )
    select s.demand_date, c.category, r.store_region,
           coalesce(ob.orders, 0)::bigint as orders,
           0::bigint as units, 0.0::double as revenue
    from spine as s
    cross join (select distinct category from observed) as c
    cross join (select distinct store_region from observed) as r
    left join observed as ob
        on ob.order_date = s.demand_date and ob.category = c.category
        and ob.store_region = r.store_region
    order by 1, 2, 3
    """
    with duckdb.connect() as con:
        return con.sql(sql).df()


def daily_orders_from_landing(folder: Path) -> pd.DataFrame:
    """Distinct completed orders per day x region (like marts.daily_orders, no countries)."""
    sql = f"""
    with orders as (
        select distinct on (order_id)
            cast(order_id as varchar) as order_id,
            cast(try_cast(ordered_at as timestamp) as date) as demand_date,
            coalesce(nullif(trim(cast(store_region as varchar)), ''), 'unknown') as store_region
        from {_source(folder, "orders")}
        where lower(trim(cast(status as varchar))) = 'completed'
          and try_cast(ordered_at as timestamp) is not null
          and try_cast(ordered_at as timestamp) <= now()
        order by order_id
    )
    select demand_date, store_region, count(*)::bigint as orders
    from orders group by all order by 1, 2
    """
    with duckdb.connect() as con:
        return con.sql(sql).df()


def daily_orders_from_warehouse(path: Path) -> pd.DataFrame:
    """Read marts.daily_orders from a warehouse file (read-only)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select * from marts.daily_orders order by 1, 2").df()


def daily_demand_from_warehouse(path: Path) -> pd.DataFrame:
    """Read marts.daily_demand from a warehouse file (read-only)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select * from marts.daily_demand order by 1, 2, 3").df()


def _machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return {
        "nproc": os.cpu_count(),
        # 1: the kernel shares CPU fairly between sessions, not processes, so on a loaded
        # machine a process pool gets no more CPU than one process (see cores_used).
        "sched_autogroup_enabled": autogroup.read_text().strip() if autogroup.exists() else None,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _forward(y: pd.Series, params: ForecastParams) -> pd.Series:
    return np.log1p(y) if params.transform == "log1p" else y


def _back(values: np.ndarray, params: ForecastParams) -> np.ndarray:
    return np.expm1(values) if params.transform == "log1p" else values


def plain_sequential_loop(
    series: dict[str, pd.DataFrame], params: ForecastParams
) -> tuple[float, int]:
    """The loop the issue compares against: one Prophet per series, defaults, no pool."""
    from prophet import Prophet

    started = time.perf_counter()
    fitted = 0
    for frame in series.values():
        if len(frame) < params.min_history_days:
            continue
        span = (frame["ds"].iloc[-1] - frame["ds"].iloc[0]).days + 1
        m = Prophet(
            yearly_seasonality=params.yearly_fourier_order
            if span >= params.yearly_min_days
            else False,
            weekly_seasonality=True,
            daily_seasonality=False,
            seasonality_mode=params.seasonality_mode,
            interval_width=params.interval_width,
        )
        if params.country_holidays:
            m.add_country_holidays(country_name=params.country_holidays)
        m.fit(frame.assign(y=_forward(frame["y"], params)))
        m.predict(m.make_future_dataframe(periods=params.horizon_days))
        fitted += 1
    return time.perf_counter() - started, fitted


def uncertainty_sweep(
    total: pd.DataFrame, params: ForecastParams, end: pd.Timestamp, samples: list[int]
) -> list[dict[str, Any]]:
    """Per uncertainty_samples: production-path time and coverage, and the #479 predict cost."""
    from prophet import Prophet

    cutoffs = backtest_cutoffs(end, params)
    rows = []
    for n in samples:
        tuned = replace(params, uncertainty_samples=n)
        seconds, covs = 0.0, []
        for cutoff in cutoffs:
            train = total[total["ds"] <= cutoff]
            test = total[total["ds"] > cutoff].head(params.eval_horizon_days)
            t0 = time.perf_counter()
            fc = forecast_series(train, tuned, "total", params.eval_horizon_days).forecast
            seconds += time.perf_counter() - t0
            s = score_forecast(
                test["y"].to_numpy(),
                fc["yhat"].to_numpy(),
                fc["yhat_lower"].to_numpy(),
                fc["yhat_upper"].to_numpy(),
                train["y"].to_numpy(),
            )
            covs.append(s["coverage"])
        m = Prophet(weekly_seasonality=True, yearly_seasonality=True, uncertainty_samples=n)
        m.fit(total.assign(y=_forward(total["y"], params)))
        t0 = time.perf_counter()
        m.predict(m.make_future_dataframe(periods=params.horizon_days))
        rows.append(
            {
                "uncertainty_samples": n,
                "forecast_series_seconds": round(seconds / len(cutoffs), 4),
                "total_coverage_uncalibrated": round(float(np.mean(covs)), 4),
                "prophet_predict_history_plus_horizon_seconds": round(time.perf_counter() - t0, 4),
            }
        )
        print(f"  uncertainty_samples={n}: {rows[-1]}", flush=True)
    return rows


def _timed(fn: Any) -> dict[str, Any]:
    """Wall and CPU seconds (this process + waited-for children, i.e. CmdStan) of one call.

    Pool workers are forked by the forkserver, not by this process, so their CPU is not in
    os.times(): calls that run a pool report it through forecast_all(stats=...) instead.
    """
    load = _load()[0]
    c0, t0 = os.times(), time.perf_counter()
    stats = fn() or {}
    c1, wall = os.times(), time.perf_counter() - t0
    cpu = sum(getattr(c1, f) - getattr(c0, f) for f in ("user", "system"))
    child = sum(getattr(c1, f) - getattr(c0, f) for f in ("children_user", "children_system"))
    out: dict[str, Any] = {"wall": round(wall, 2), "cpu": round(cpu + child, 2)}
    if stats.get("workers", 1) > 1:
        workers = stats["worker_cpu_seconds"]
        out["cpu"] = round(stats["cpu_seconds"], 2)
        out["worker_cpu"] = [round(w, 2) for w in workers]
        out["busiest_worker_cpu"] = round(max(workers), 2)
        out["parent_cpu"] = round(stats["parent_cpu_seconds"], 2)
        out["startup"] = round(stats["startup_seconds"], 2)
    out["cores_used"] = round(out["cpu"] / wall, 2) if wall > 0 else None
    out["load1_before"], out["load1_after"] = load, _load()[0]
    return out


def _parallel_step(series: dict[str, pd.DataFrame], params: ForecastParams) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    forecast_all(series, params, stats=stats)
    return stats


def _median(values: list[float]) -> float:
    return float(np.median(values))


def _coverage_table(backtests: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Prophet 80% interval coverage per level and cutoff (mean over the level's series)."""
    rows = backtests[backtests["model"] == "prophet"]
    table = rows.pivot_table(index="level", columns="cutoff", values="coverage", aggfunc="mean")
    return {
        level: {str(c): round(float(v), 4) for c, v in table.loc[level].items()}
        for level in table.index
    }


def _printer(label: str):
    state = {"last": 0.0}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - state["last"] > 5:
            state["last"] = now
            print(f"  {label}: {done}/{total}", flush=True)

    return progress


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path)
    ap.add_argument("--landing", type=Path)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-sweep", action="store_true")
    return ap.parse_args()


def _load_demand(args: argparse.Namespace) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(source description, daily demand, daily distinct order counts)."""
    if args.warehouse:
        source = {"warehouse": str(args.warehouse)}
        return (
            source,
            daily_demand_from_warehouse(args.warehouse),
            daily_orders_from_warehouse(args.warehouse),
        )
    landing = args.landing
    if landing is None:
        from segmint.sample import generate

        landing = Path(tempfile.mkdtemp(prefix="bench_forecast_")) / "landing"
        generate(landing, customers=args.customers, days=args.days, seed=args.seed)
    source = {
        "landing": str(landing),
        "customers": None if args.landing else args.customers,
        "days": None if args.landing else args.days,
    }
    return source, daily_demand_from_landing(landing), daily_orders_from_landing(landing)


def _accuracy(demand: pd.DataFrame, counts: pd.DataFrame, params: ForecastParams) -> dict[str, Any]:
    """The full run (forecasts + rolling-origin backtests), in parallel."""
    report: dict[str, Any] = {"load_before_run": _load()}
    t = time.perf_counter()
    result = run_forecasting(
        demand, params, progress=_printer("run_forecasting"), order_counts=counts
    )
    report["run_forecasting_seconds"] = round(time.perf_counter() - t, 2)
    report["load_after_run"] = _load()
    bt = result.backtests
    total = bt[bt["series_key"] == "total"]
    report["total_backtest"] = total.drop(columns=["model_version"]).to_dict(orient="records")
    report["total_summary"] = {
        model: {
            "mase": round(float(g["mase"].mean()), 4),
            "smape": round(float(g["smape"].mean()), 4),
            "coverage": round(float(g["coverage"].mean()), 4),
        }
        for model, g in total.groupby("model")
    }
    report["coverage_by_level_and_cutoff"] = _coverage_table(bt)
    report["interval_calibration"] = result.run.metrics["interval_calibration"]
    raw = backtest(
        {"total": build_series(demand, ("total",), params.metric, order_counts=counts)["total"]},
        replace(params, interval_calibration="none", n_jobs=1),
    )
    raw = raw[raw["model"] == "prophet"]
    report["total_coverage_uncalibrated"] = {
        str(r.cutoff): round(float(r.coverage), 4) for r in raw.itertuples()
    }
    metrics = result.run.metrics
    report["by_level"] = metrics["by_level"]
    report["baseline_by_level"] = result.run.baseline_metrics["seasonal_naive"]["by_level"]
    for key in ("win_rate_vs_seasonal_naive", "methods", "n_series"):
        report[key] = metrics[key]
    report["n_fits_with_backtests"] = metrics["n_fits"]
    print(json.dumps(report["total_summary"], indent=1), flush=True)
    return report


def _speed_samples(
    series: dict[str, pd.DataFrame], params: ForecastParams, repeats: int
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Interleaved samples (rotating the order) of the plain loop, the same code on one
    process and the pool; and the one-off cost of starting the pool's forkserver."""
    runs = {
        "plain": lambda: plain_sequential_loop(series, params) and None,
        "same_code_1": lambda: _parallel_step(series, replace(params, n_jobs=1)),
        "parallel": lambda: _parallel_step(series, params),
    }
    # Start the forkserver (it imports Prophet once, like the loop's own import) outside the
    # samples, but report what that one-off costs.
    first_pool = _timed(lambda: _parallel_step(dict(list(series.items())[:2]), params))
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    for i in range(repeats):
        names = list(runs)
        for name in names[i % 3 :] + names[: i % 3]:
            samples[name].append(_timed(runs[name]))
        print(f"  speed samples: {samples}", flush=True)
    return samples, first_pool


def _speed(series: dict[str, pd.DataFrame], params: ForecastParams, repeats: int) -> dict:
    """The forecast step over all series, parallel vs plain sequential loop. The machine may
    be shared: repeat interleaved, record the load with every sample, and report wall-clock
    ratios (min and median) next to CPU-second ratios."""
    samples, first_pool = _speed_samples(series, params, repeats)
    wall = {k: [v["wall"] for v in vals] for k, vals in samples.items()}
    cpu = {k: _median([v["cpu"] for v in vals]) for k, vals in samples.items()}
    busiest = _median([v["busiest_worker_cpu"] for v in samples["parallel"]])
    startup = _median([v["startup"] for v in samples["parallel"]])
    loads = [v["load1_before"] for vals in samples.values() for v in vals]
    return {
        "series": len(series),
        "prophet_fits": sum(len(f) >= params.min_history_days for f in series.values()),
        "workers": params.workers,
        "repeats": repeats,
        "load1_during_samples": [min(loads), max(loads)],
        "samples": samples,
        "parallel_seconds": min(wall["parallel"]),
        "plain_sequential_loop_seconds": min(wall["plain"]),
        "speedup_vs_plain_loop": round(min(wall["plain"]) / min(wall["parallel"]), 2),
        "speedup_vs_plain_loop_median": round(
            _median(wall["plain"]) / _median(wall["parallel"]), 2
        ),
        "sequential_same_code_seconds": min(wall["same_code_1"]),
        "speedup_from_processes_alone": round(min(wall["same_code_1"]) / min(wall["parallel"]), 2),
        "cpu_seconds_median": cpu,
        "cores_used_median": {
            k: _median([v["cores_used"] for v in vals]) for k, vals in samples.items()
        },
        "parallel_busiest_worker_cpu_seconds": busiest,
        "parallel_startup_seconds": startup,
        "first_pool_one_series_seconds": first_pool["wall"],
        # What the pool gives on idle cores: the loop's CPU over the critical path (busiest
        # worker + the delay before the first worker starts), independent of other jobs.
        "cpu_speedup_vs_plain_loop": round(cpu["plain"] / (busiest + startup), 2),
        "cpu_speedup_from_processes_alone": round(cpu["same_code_1"] / (busiest + startup), 2),
        "plain_loop": "for each series: Prophet(defaults, uncertainty_samples=1000), same "
        "seasonalities/holidays/transform, fit, predict(make_future_dataframe) = history + "
        "horizon; one process",
    }


def main() -> None:
    """Run the benchmark and write benchmarks/results/forecast.json."""
    args = _arguments()
    import prophet  # noqa: F401  (import first: it resets the 'prophet' logger level)

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)

    t0 = time.perf_counter()
    source, demand, counts = _load_demand(args)
    print(f"daily_demand: {len(demand)} rows in {time.perf_counter() - t0:.1f}s", flush=True)
    params = ForecastParams(n_jobs=args.jobs, seed=args.seed)
    report: dict[str, Any] = {
        "source": source,
        "machine": _machine(),
        "daily_demand_rows": len(demand),
        "dates": [str(demand["demand_date"].min()), str(demand["demand_date"].max())],
        "n_categories": int(demand["category"].nunique()),
        "n_regions": int(demand["store_region"].nunique()),
        "params": params.to_json_dict(),
    }
    report.update(_accuracy(demand, counts, params))
    series = build_series(demand, params.levels, params.metric, order_counts=counts)
    report["speed"] = _speed(series, params, args.repeats)
    print(json.dumps({k: v for k, v in report["speed"].items() if k != "samples"}), flush=True)
    if not args.skip_sweep:  # uncertainty_samples: predict time and coverage on the total
        end = pd.Timestamp(demand["demand_date"].max())
        report["uncertainty_sweep"] = uncertainty_sweep(
            series["total"], params, end, [50, 100, 200, 500, 1000]
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
