"""A forecasting run: every series of every level, backtests, calibration, the run record."""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml import registry as registry_
from ml import runs
from ml.forecast.backtest import backtest_cutoffs, backtest_tasks, score_backtests
from ml.forecast.calibration import calibrate_intervals, scale_interval
from ml.forecast.holidays import resolve_holidays
from ml.forecast.params import FLAG_COLUMNS, FORECAST_COLUMNS, AsOf, ForecastParams, Progress
from ml.forecast.pool import Task, execute
from ml.forecast.prophet_model import country_for, predict_series
from ml.forecast.selection import Choice, choose_methods, forecast_tail
from ml.forecast.series import (
    Fitted,
    SeriesForecast,
    build_series,
    prepare_demand,
    series_key_parts,
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
    """Headline metrics of the forecasts as published (each series' own method), per model,
    and the seasonal-naive baseline over the same series and origins."""

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

    def summary(rows: pd.DataFrame) -> dict[str, Any]:
        return {
            "overall": agg(rows),
            "by_level": {lv: agg(g) for lv, g in rows.groupby("level", sort=True)},
            "total": agg(rows[rows["series_key"] == "total"]),
        }

    method = backtests["series_key"].map(flags.set_index("series_key")["method"])
    own = backtests[backtests["model"] == method]
    naive = backtests[backtests["model"] == "seasonal_naive"]
    naive_same = naive.merge(own[["series_key", "cutoff"]], on=["series_key", "cutoff"])
    wide = backtests.pivot_table(
        index=["series_key", "cutoff"], columns="model", values="mase", aggfunc="first"
    )
    own_mase = own.set_index(["series_key", "cutoff"])["mase"]
    both = pd.DataFrame({"own": own_mase, "naive": wide.get("seasonal_naive")}).dropna()
    methods = flags["method"].value_counts().sort_index()
    metrics = {
        **summary(own),
        "by_model": {m: agg(g) for m, g in own.groupby("model", sort=True)},
        "win_rate_vs_seasonal_naive": (
            float((both["own"] < both["naive"]).mean()) if len(both) else None
        ),
        "n_series": int(len(flags)),
        "n_series_by_level": {k: int(v) for k, v in flags["level"].value_counts().items()},
        "n_fallback": int((~flags["method"].isin(["prophet", "share"])).sum()),
        "methods": {k: int(v) for k, v in methods.items()},
    }
    return metrics, summary(naive_same)


def _fit(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: pd.Timestamp,
    progress: Progress | None,
    spark: Any = None,
) -> tuple[Fitted, dict[str, Choice], list[pd.Timestamp], list[str], dict[str, Any]]:
    """Prophet fits for the chosen series (in the pool), calibration, then the cheap tail.

    Also returns the cutoffs and the top_n_plots series (Prophet ones fitted with components).
    """
    cutoffs = backtest_cutoffs(end, params)
    choices = choose_methods(series, cutoffs, params)
    prophet_keys = [k for k, c in choices.items() if c.method == "prophet"]
    top = top_series(series, params.top_n_plots)
    tasks = [
        Task(key, None, series[key], params.horizon_days, end, key in top) for key in prophet_keys
    ]
    tasks += backtest_tasks(series, cutoffs, params, set(prophet_keys))
    n_tail = sum(c.method != "prophet" for c in choices.values())
    steps = len(tasks) + n_tail

    def fits_done(done: int, _total: int) -> None:
        if progress:
            progress(done, steps)

    def tail_done(done: int, _total: int) -> None:
        if progress:
            progress(len(tasks) + done, steps)

    stats: dict[str, Any] = {}
    fitted = execute(tasks, params, fits_done, stats, spark=spark)
    if params.interval_calibration == "rolling_origin":
        fitted = calibrate_intervals(series, fitted, cutoffs, end, params)
    fitted = forecast_tail(series, choices, cutoffs, fitted, params, end, tail_done)
    stats["n_prophet_fits"] = len(tasks)
    return fitted, choices, cutoffs, top, stats


def run_forecasting(
    daily_demand: pd.DataFrame,
    params: ForecastParams | None = None,
    as_of: AsOf = None,
    progress: Progress | None = None,
    run_at: datetime | None = None,
    order_counts: pd.DataFrame | None = None,
    registry: tuple[registry_.ModelStore, registry_.Policy] | None = None,
    log: Callable[[str], None] = print,
    spark: Any = None,
) -> ForecastResult:
    """Forecast every series of every level, backtest them, and summarise against baselines.

    order_counts is marts.daily_orders (demand_date, store_region, customer_country,
    orders): the distinct orders behind the total and region series of order counts, and
    the customers' countries behind the default holiday calendars (ml.forecast.holidays).
    progress gets (done, total) over the Prophet fits and then the cheap-tail series.
    With a `registry` (store, policy) a run predicts from the champion's stored Prophet fits
    (no fits, no backtests) unless a refit is due (ml.registry.select).
    spark: a SparkSession to fan the Prophet fits out on (groupBy(...).applyInPandas, the
    same per-series code and results as the local pool); None: the local pool.
    """
    params = params or ForecastParams()
    run_at = run_at or datetime.now(UTC)
    started = time.perf_counter()
    series = build_series(daily_demand, params.levels, params.metric, as_of, order_counts)
    prepared = prepare_demand(daily_demand, params.metric, as_of)
    end = prepared["ds"].max() if len(prepared) else to_timestamp(as_of)
    start = prepared["ds"].min() if len(prepared) else None
    if end is None:
        raise ValueError("daily_demand is empty and no as_of was given")
    regions = sorted({series_key_parts(k)["region"] for k in series if "region=" in k})
    plan = resolve_holidays(
        order_counts,
        regions,
        params.country_holidays,
        params.region_holidays,
        params.shop_country_min_share,
    )
    params = replace(
        params, country_holidays=plan.shop_country, region_holidays=plan.region_countries
    )
    window = {"start": start.date().isoformat() if start is not None else None}
    run_params = {**params.to_json_dict(), "holidays_by_level": plan.to_json_dict()}

    def fit() -> registry_.Fitted:
        fitted = _fit_all(series, params, end, progress, started, window, run_params, spark)
        meta = {"as_of": end, "window": fitted.window, "params": run_params}
        return registry_.Fitted(fitted, fitted.version, fitted.metrics["overall"]["mase"], meta)

    family = registry_.Family(
        MODEL_NAME, "mase", fit, _champion_mase, runs.code_version(*_code_modules()), end,
        higher_is_better=False, horizon_days=params.horizon_days,
        write=_write, read=_read, compatible=lambda champion: _compatible(champion, series),
    )  # fmt: skip
    selection = registry_.choose(family, registry, log)
    chosen: ForecastFit = selection.payload
    if chosen.window["end"] == end.date().isoformat():
        production = chosen.production  # fitted now, or the same origin: its own forecast
    else:  # the champion predicts from its stored fits: no Prophet fit, no backtest
        production = _predict(chosen, series, params, end, progress)
    forecasts, flags = _tables(series, production, chosen.choices, params, selection.version)
    metrics = {**chosen.metrics, "seconds": round(time.perf_counter() - started, 3)}
    run = ModelRun(
        MODEL_NAME, selection.version, run_at, chosen.run_params, metrics,
        {"seasonal_naive": chosen.baseline}, chosen.window, None, selection.decision,
    )  # fmt: skip
    return ForecastResult(forecasts, chosen.backtests, flags, run, series, production, chosen.top)


def _code_modules() -> list[Any]:
    import ml.forecast as package

    names = ("params", "series", "holidays", "selection", "baseline", "prophet_model")
    names += ("calibration", "pool", "backtest", "run")
    return [importlib.import_module(f"{package.__name__}.{n}") for n in names]


@dataclass
class ForecastFit:
    """What a forecast champion stores: its choices, fits' production forecasts (each Prophet
    fit as JSON), the backtests scored when it was fitted, and its metrics."""

    version: str
    choices: dict[str, Choice]
    production: dict[str, SeriesForecast]
    backtests: pd.DataFrame
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    window: dict[str, Any]
    run_params: dict[str, Any]
    top: list[str]


def _fit_all(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: pd.Timestamp,
    progress: Progress | None,
    started: float,
    window: dict[str, Any],
    run_params: dict[str, Any],
    spark: Any = None,
) -> ForecastFit:
    """Fit every series and its backtests, calibrate, score the backtests (the refit)."""
    version = model_version(params, end)
    fitted, choices, cutoffs, top, stats = _fit(series, params, end, progress, spark)
    production = {key: fitted[(key, None)] for key in series}
    backtests = score_backtests(series, cutoffs, fitted, params, version)
    flags = _tables(series, production, choices, params, version)[1]
    metrics, baseline = _summarise(backtests, flags)
    metrics["fit_seconds"] = round(time.perf_counter() - started, 3)
    metrics["n_fits"] = stats["n_prophet_fits"]
    metrics["workers"] = stats.get("workers", 1)
    metrics["fit_cpu_seconds"] = round(stats.get("cpu_seconds", 0.0), 3)
    metrics["interval_calibration"] = _calibration_summary(series, cutoffs, fitted, params)
    window = {
        **window,
        "end": end.date().isoformat(),
        "backtest_cutoffs": [c.date().isoformat() for c in cutoffs],
    }
    return ForecastFit(
        version, dict(choices), production, backtests, metrics, baseline, window, run_params, top
    )


def _champion_mase(champion: ForecastFit, challenger: registry_.Fitted) -> float | None:
    """The champion's backtest MASE when it was backtested on the challenger's origins.

    A champion cannot be backtested again without refitting its recipe on earlier data (its
    own fits have seen those windows); with other origins there is nothing fair to compare
    and the challenger wins (ml.registry.decide).
    """
    if champion.window.get("backtest_cutoffs") != challenger.payload.window["backtest_cutoffs"]:
        return None
    return champion.metrics.get("overall", {}).get("mase")


def _compatible(champion: ForecastFit, series: Mapping[str, pd.DataFrame]) -> str | None:
    """A refit reason when today's series are not the ones the champion forecasts."""
    return None if set(series) == set(champion.choices) else "series_changed"


def _predict(
    champion: ForecastFit,
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: pd.Timestamp,
    progress: Progress | None,
) -> dict[str, SeriesForecast]:
    """Production forecasts after `end` from the champion's stored fits and choices."""
    fitted: Fitted = {}
    for done, (key, stored) in enumerate(champion.production.items(), start=1):
        if stored.model_json is None:
            continue
        result = predict_series(
            stored.model_json, series[key], params, key, end, key in champion.top
        )
        if stored.interval_scale is not None:
            result = replace(
                result,
                forecast=scale_interval(result.forecast, stored.interval_scale, params.transform),
                interval_scale=stored.interval_scale,
                calibration_n=stored.calibration_n,
            )
        fitted[(key, None)] = result
        if progress:
            progress(done, len(champion.production))
    fitted = forecast_tail(series, champion.choices, [], fitted, params, end)
    return {key: fitted[(key, None)] for key in series}


def _write(fit: ForecastFit, folder: Path) -> None:
    """Each Prophet fit as its own JSON file (prophet.serialize), the rest as joblib."""
    (folder / "prophet").mkdir()
    production, index = {}, {}
    for i, (key, result) in enumerate(sorted(fit.production.items())):
        if result.model_json is not None:
            (folder / "prophet" / f"{i}.json").write_text(result.model_json)
            index[key] = f"{i}.json"
        production[key] = replace(result, model_json=None)
    registry_.joblib_write((replace(fit, production=production), index), folder)


def _read(folder: Path) -> ForecastFit:
    fit, index = registry_.joblib_read(folder)
    production = {
        key: replace(result, model_json=(folder / "prophet" / index[key]).read_text())
        if key in index
        else result
        for key, result in fit.production.items()
    }
    return replace(fit, production=production)


def _tables(
    series: Mapping[str, pd.DataFrame],
    production: Mapping[str, SeriesForecast],
    choices: Mapping[str, Choice],
    params: ForecastParams,
    version: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of ml.demand_forecasts and ml.forecast_flags (method, reason, parent, holidays).

    Built column-wise (one concatenation per column): thousands of series are common.
    """
    keys = list(series)
    frames = [production[key].forecast for key in keys]
    lengths = np.array([len(f) for f in frames])

    def repeat(values: list[Any]) -> np.ndarray:
        return np.repeat(np.array(values, dtype=object), lengths)

    levels = [series_level(key) for key in keys]
    forecasts = pd.DataFrame(
        {
            "series_key": repeat(keys),
            "level": repeat(levels),
            "ds": pd.to_datetime(np.concatenate([f["ds"].to_numpy() for f in frames])).date,
            **{
                col: np.concatenate([f[col].to_numpy(float) for f in frames])
                for col in ("yhat", "yhat_lower", "yhat_upper")
            },
            "model_version": version,
            "metric": params.metric,
            "method": repeat([production[key].method for key in keys]),
            "fallback_reason": repeat([production[key].reason for key in keys]),
        }
    )
    flag_rows = []
    for key, level in zip(keys, levels, strict=True):
        frame, res, choice = series[key], production[key], choices[key]
        flag_rows.append(
            {
                "series_key": key,
                "level": level,
                "method": res.method,
                "reason": res.reason,
                "history_days": len(frame),
                "first_date": frame["ds"].iloc[0].date() if len(frame) else None,
                "last_date": frame["ds"].iloc[-1].date() if len(frame) else None,
                "parent_key": choice.parent if res.method == "share" else None,
                "holiday_country": country_for(key, params) if res.method == "prophet" else None,
                "recent_volume": choice.recent_volume,
                "nonzero_share": choice.nonzero_share,
            }
        )
    return forecasts[FORECAST_COLUMNS], pd.DataFrame(flag_rows, columns=FLAG_COLUMNS)
