"""Rolling-origin backtests: Prophet and seasonal naive scored at each cutoff."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ml.forecast.baseline import seasonal_naive
from ml.forecast.calibration import calibrate_intervals
from ml.forecast.params import BACKTEST_COLUMNS, SEASON, AsOf, ForecastParams, Progress
from ml.forecast.pool import Task, execute
from ml.forecast.series import Fitted, series_end, series_level, to_timestamp


def score_forecast(
    actual: np.ndarray,
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    train_y: np.ndarray,
) -> dict[str, float]:
    """MAE, MASE (scaled by in-sample same-weekday-last-week MAE), sMAPE (%) and coverage."""
    actual, yhat = np.asarray(actual, float), np.asarray(yhat, float)
    train_y = np.asarray(train_y, float)
    err = np.abs(actual - yhat)
    mae = float(err.mean())
    scale = (
        float(np.abs(train_y[SEASON:] - train_y[:-SEASON]).mean())
        if train_y.size > SEASON
        else math.nan
    )
    denom = np.abs(actual) + np.abs(yhat)
    ratio = np.divide(2 * err, denom, out=np.zeros_like(err), where=denom > 0)
    inside = (actual >= np.asarray(lower, float)) & (actual <= np.asarray(upper, float))
    return {
        "mae": mae,
        "mase": mae / scale if scale and scale > 0 else math.nan,
        "smape": float(100 * ratio.mean()),
        "coverage": float(inside.mean()),
    }


def backtest_cutoffs(end: AsOf, params: ForecastParams) -> list[pd.Timestamp]:
    """Rolling origins spread over the last backtest_window_days before end, latest first."""
    last = to_timestamp(end)
    if last is None or params.backtest_cutoffs == 0:
        return []
    horizon = params.eval_horizon_days
    n = params.backtest_cutoffs
    step = max(SEASON, (params.backtest_window_days - horizon) // (n - 1)) if n > 1 else 0
    return [last - pd.Timedelta(days=horizon + i * step) for i in range(n)]


def backtest_tasks(
    series: Mapping[str, pd.DataFrame], cutoffs: Sequence[pd.Timestamp], params: ForecastParams
) -> list[Task]:
    """One fit per series and cutoff with at least min_history_days of history."""
    tasks = []
    for key, frame in series.items():
        for cutoff in cutoffs:
            train = frame[frame["ds"] <= cutoff]
            if len(train) >= params.min_history_days:
                tasks.append(Task(key, cutoff, train, params.eval_horizon_days, cutoff, False))
    return tasks


def score_backtests(
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Fitted,
    params: ForecastParams,
    model_version: str,
) -> pd.DataFrame:
    """BACKTEST_COLUMNS rows: Prophet and seasonal naive against the actuals after each cutoff."""
    rows = []
    horizon = params.eval_horizon_days
    for key, frame in series.items():
        for cutoff in cutoffs:
            train = frame[frame["ds"] <= cutoff]
            if len(train) < 2 * SEASON:
                continue
            end = cutoff + pd.Timedelta(days=horizon)
            actual = frame[(frame["ds"] > cutoff) & (frame["ds"] <= end)]
            if len(actual) < horizon:
                continue
            candidates = {"seasonal_naive": seasonal_naive(train, horizon, params.interval_width)}
            result = fitted.get((key, cutoff))
            if result is not None and result.method == "prophet":
                candidates["prophet"] = result.forecast
            for model, fc in sorted(candidates.items()):
                joined = actual.merge(fc, on="ds", how="inner")
                scores = score_forecast(
                    joined["y"].to_numpy(),
                    joined["yhat"].to_numpy(),
                    joined["yhat_lower"].to_numpy(),
                    joined["yhat_upper"].to_numpy(),
                    train["y"].to_numpy(),
                )
                rows.append(
                    {
                        "series_key": key,
                        "level": series_level(key),
                        "metric": params.metric,
                        "model": model,
                        "cutoff": cutoff.date(),
                        "horizon_days": horizon,
                        "n_obs": len(joined),
                        **scores,
                        "model_version": model_version,
                    }
                )
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def backtest(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: AsOf = None,
    progress: Progress | None = None,
    model_version: str = "",
) -> pd.DataFrame:
    """Rolling-origin backtest of Prophet and seasonal naive per series (BACKTEST_COLUMNS).

    Prophet intervals at each cutoff are calibrated from the earlier cutoffs' errors when
    params.interval_calibration is "rolling_origin" (see calibrate_intervals).
    """
    last = to_timestamp(end) or series_end(series)
    cutoffs = backtest_cutoffs(last, params)
    fitted = execute(backtest_tasks(series, cutoffs, params), params, progress)
    if params.interval_calibration == "rolling_origin" and last is not None:
        fitted = calibrate_intervals(series, fitted, cutoffs, last, params)
    return score_backtests(series, cutoffs, fitted, params, model_version)
