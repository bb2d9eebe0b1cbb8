"""A forecasting run: every series of every level, backtests, calibration, the run record."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.backtest import backtest_cutoffs, backtest_tasks, score_backtests
from ml.forecast.calibration import calibrate_intervals
from ml.forecast.params import FLAG_COLUMNS, FORECAST_COLUMNS, AsOf, ForecastParams, Progress
from ml.forecast.pool import Task, execute
from ml.forecast.series import (
    Fitted,
    SeriesForecast,
    build_series,
    prepare_demand,
    series_level,
    to_timestamp,
    top_series,
)
from ml.runs import ModelRun

MODEL_NAME = "demand_forecast"


@dataclass
class ForecastResult:
    """Everything one forecasting run writes back, and what its figures need (ml.plots)."""

    forecasts: pd.DataFrame  # FORECAST_COLUMNS -> ml.demand_forecasts
    backtests: pd.DataFrame  # BACKTEST_COLUMNS -> ml.forecast_backtests
    flags: pd.DataFrame  # FLAG_COLUMNS: one row per series -> ml.forecast_flags
    run: ModelRun  # -> ml.model_runs
    history: dict[str, pd.DataFrame]  # daily history (ds, y) per series key
    fitted: dict[str, SeriesForecast]  # the (calibrated) production forecast per series key
    top_series: list[str]  # the params.top_n_plots series with most volume, largest first

    @property
    def metric(self) -> str:
        """The demand column forecast (orders, units or revenue)."""
        return str(self.run.params["metric"])


def model_version(params: ForecastParams, as_of: AsOf) -> str:
    """Deterministic version tag from the Prophet version, the params and the as-of date."""
    model_params = params.to_json_dict()
    for name in ("n_jobs", "top_n_plots"):  # change how it runs, not what it outputs
        model_params.pop(name)
    payload = json.dumps(
        {"params": model_params, "as_of": str(to_timestamp(as_of))}, sort_keys=True
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
    return f"prophet-{metadata.version('prophet')}-{digest}"


def _calibration_summary(
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Fitted,
    params: ForecastParams,
) -> dict[str, Any]:
    """Conformal factors applied to the production forecasts (and how many were applied)."""
    factors = {
        key: fitted[(key, None)].interval_scale
        for key in series
        if fitted[(key, None)].method == "prophet"
    }
    applied = {k: f for k, f in factors.items() if f is not None}
    by_level: dict[str, list[float]] = {}
    for key, factor in applied.items():
        by_level.setdefault(series_level(key), []).append(factor)
    return {
        "method": params.interval_calibration,
        "n_prophet_forecasts": len(factors),
        "n_calibrated": len(applied),
        "total_factor": applied.get("total"),
        "median_factor_by_level": {lv: float(np.median(v)) for lv, v in sorted(by_level.items())},
        "backtest_cutoffs_calibrated": sum(
            any(c2 + pd.Timedelta(days=params.eval_horizon_days) <= c for c2 in cutoffs)
            for c in cutoffs
        ),
    }


def _summarise(
    backtests: pd.DataFrame, flags: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Any]]:
    def agg(frame: pd.DataFrame) -> dict[str, Any]:
        if frame.empty:
            return {"mase": None, "smape": None, "coverage": None, "n_evals": 0}
        weights = frame["n_obs"].to_numpy(float)
        mase = frame["mase"].replace([np.inf, -np.inf], np.nan).dropna()
        return {
            "mase": float(mase.mean()) if len(mase) else None,
            "mase_median": float(mase.median()) if len(mase) else None,
            "smape": float(frame["smape"].mean()),
            "coverage": float(np.average(frame["coverage"], weights=weights)),
            "n_evals": int(len(frame)),
        }

    per_model: dict[str, dict[str, Any]] = {}
    for model in ("prophet", "seasonal_naive"):
        rows = backtests[backtests["model"] == model]
        per_model[model] = {
            "overall": agg(rows),
            "by_level": {lv: agg(g) for lv, g in rows.groupby("level", sort=True)},
            "total": agg(rows[rows["series_key"] == "total"]),
        }
    wide = backtests.pivot_table(
        index=["series_key", "cutoff"], columns="model", values="mase", aggfunc="first"
    )
    win_rate = None
    if {"prophet", "seasonal_naive"} <= set(wide.columns):
        both = wide.dropna(subset=["prophet", "seasonal_naive"])
        if len(both):
            win_rate = float((both["prophet"] < both["seasonal_naive"]).mean())
    methods = flags["method"].value_counts().sort_index()
    metrics = {
        **per_model["prophet"],
        "win_rate_vs_seasonal_naive": win_rate,
        "n_series": int(len(flags)),
        "n_series_by_level": {k: int(v) for k, v in flags["level"].value_counts().items()},
        "n_fallback": int((flags["method"] != "prophet").sum()),
        "methods": {k: int(v) for k, v in methods.items()},
    }
    return metrics, per_model["seasonal_naive"]


def run_forecasting(
    daily_demand: pd.DataFrame,
    params: ForecastParams | None = None,
    as_of: AsOf = None,
    progress: Progress | None = None,
    run_at: datetime | None = None,
) -> ForecastResult:
    """Forecast every series of every level, backtest them, and summarise against baselines."""
    params = params or ForecastParams()
    run_at = run_at or datetime.now(UTC)
    started = time.perf_counter()
    series = build_series(daily_demand, params.levels, params.metric, as_of)
    prepared = prepare_demand(daily_demand, params.metric, as_of)
    end = prepared["ds"].max() if len(prepared) else to_timestamp(as_of)
    start = prepared["ds"].min() if len(prepared) else None
    if end is None:
        raise ValueError("daily_demand is empty and no as_of was given")
    version = model_version(params, end)

    top = top_series(series, params.top_n_plots)
    tasks = [
        Task(key, None, frame, params.horizon_days, end, key in top)
        for key, frame in series.items()
    ]
    cutoffs = backtest_cutoffs(end, params)
    tasks += backtest_tasks(series, cutoffs, params)
    exec_stats: dict[str, Any] = {}
    fitted = execute(tasks, params, progress, exec_stats)
    fit_seconds = time.perf_counter() - started
    if params.interval_calibration == "rolling_origin":
        fitted = calibrate_intervals(series, fitted, cutoffs, end, params)

    production = {key: fitted[(key, None)] for key in series}
    forecasts, flags = _tables(series, production, params, version)
    backtests = score_backtests(series, cutoffs, fitted, params, version)
    metrics, baseline = _summarise(backtests, flags)
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    metrics["fit_seconds"] = round(fit_seconds, 3)
    metrics["n_fits"] = len(tasks)
    metrics["workers"] = min(params.workers, len(tasks))
    metrics["fit_cpu_seconds"] = round(exec_stats.get("cpu_seconds", 0.0), 3)
    metrics["interval_calibration"] = _calibration_summary(series, cutoffs, fitted, params)
    window = {
        "start": start.date().isoformat() if start is not None else None,
        "end": end.date().isoformat(),
        "backtest_cutoffs": [c.date().isoformat() for c in cutoffs],
    }
    run = ModelRun(
        MODEL_NAME,
        version,
        run_at,
        params.to_json_dict(),
        metrics,
        {"seasonal_naive": baseline},
        window,
    )
    return ForecastResult(forecasts, backtests, flags, run, series, production, top)


def _tables(
    series: Mapping[str, pd.DataFrame],
    production: Mapping[str, SeriesForecast],
    params: ForecastParams,
    version: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of ml.demand_forecasts and ml.forecast_flags (method and reason per series)."""
    forecast_frames, flag_rows = [], []
    for key, frame in series.items():
        res = production[key]
        fc = res.forecast.assign(
            series_key=key,
            level=series_level(key),
            model_version=version,
            metric=params.metric,
            method=res.method,
            fallback_reason=res.reason,
        )
        forecast_frames.append(fc[FORECAST_COLUMNS])
        flag_rows.append(
            {
                "series_key": key,
                "level": series_level(key),
                "method": res.method,
                "reason": res.reason,
                "history_days": len(frame),
                "first_date": frame["ds"].iloc[0].date() if len(frame) else None,
                "last_date": frame["ds"].iloc[-1].date() if len(frame) else None,
            }
        )
    forecasts = pd.concat(forecast_frames, ignore_index=True)
    forecasts["ds"] = pd.to_datetime(forecasts["ds"]).dt.date
    return forecasts, pd.DataFrame(flag_rows, columns=FLAG_COLUMNS)
