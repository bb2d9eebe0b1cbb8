"""Rolling-origin backtests: each series' method and seasonal naive scored at each cutoff."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.baseline import seasonal_naive_values
from ml.forecast.calibration import calibrate_intervals
from ml.forecast.params import BACKTEST_COLUMNS, SEASON, AsOf, ForecastParams, Progress
from ml.forecast.pool import Task, execute
from ml.forecast.selection import choose_methods, forecast_tail
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
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    params: ForecastParams,
    keys: Collection[str] | None = None,
) -> list[Task]:
    """One fit per series (of keys, default all) and cutoff with min_history_days of history."""
    tasks = []
    for key, frame in series.items():
        if keys is not None and key not in keys:
            continue
        for cutoff in cutoffs:
            train = frame[frame["ds"] <= cutoff]
            if len(train) >= params.min_history_days:
                tasks.append(Task(key, cutoff, train, params.eval_horizon_days, cutoff, False))
    return tasks


SCORED_METHODS = ("prophet", "share")
_ROW_COLUMNS = [c for c in BACKTEST_COLUMNS if c not in ("metric", "horizon_days", "model_version")]


def _score_rows(
    key: str,
    y: np.ndarray,
    n_train: int,
    cutoff: pd.Timestamp,
    fitted: Fitted,
    params: ForecastParams,
) -> list[dict[str, Any]]:
    """Seasonal naive and the series' own forecast at one origin against the actuals.

    Series frames are daily and contiguous and every forecast starts the day after its
    origin, so actuals and forecasts line up by position (no join per series and origin).
    """
    horizon = params.eval_horizon_days
    if n_train < 2 * SEASON or len(y) - n_train < horizon:
        return []
    train_y, actual = y[:n_train], y[n_train : n_train + horizon]
    candidates = {"seasonal_naive": seasonal_naive_values(train_y, horizon, params.interval_width)}
    result = fitted.get((key, cutoff))
    if result is not None and result.method in SCORED_METHODS:
        fc = result.forecast
        candidates[result.method] = tuple(
            fc[c].to_numpy(float)[:horizon] for c in ("yhat", "yhat_lower", "yhat_upper")
        )
    rows = []
    for model, (yhat, lower, upper) in sorted(candidates.items()):
        scores = score_forecast(actual, yhat, lower, upper, train_y)
        rows.append({"series_key": key, "model": model, "n_obs": horizon, **scores})
    return rows


def score_backtests(
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Fitted,
    params: ForecastParams,
    model_version: str,
) -> pd.DataFrame:
    """BACKTEST_COLUMNS rows: seasonal naive and the series' method (Prophet or its share of
    the parent's forecast) against the actuals after each cutoff.

    The actuals are the series' own values, so every level is scored against what it
    forecasts (distinct orders above the category for order counts).
    """
    rows = []
    origins = np.array(cutoffs, dtype="datetime64[ns]")
    for key, frame in series.items():
        level = series_level(key)
        y = frame["y"].to_numpy(float)
        ends = np.searchsorted(frame["ds"].to_numpy(), origins, side="right")
        for cutoff, n_train in zip(cutoffs, ends, strict=True):
            for row in _score_rows(key, y, int(n_train), cutoff, fitted, params):
                row.update(level=level, cutoff=cutoff.date())
                rows.append(row)
    out = pd.DataFrame(rows, columns=_ROW_COLUMNS).assign(
        metric=params.metric, horizon_days=params.eval_horizon_days, model_version=model_version
    )
    return out[BACKTEST_COLUMNS]


def backtest(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: AsOf = None,
    progress: Progress | None = None,
    model_version: str = "",
) -> pd.DataFrame:
    """Rolling-origin backtest of each series' method and seasonal naive (BACKTEST_COLUMNS).

    Methods are chosen as in run_forecasting (choose_methods: Prophet within the fit cap,
    shares of the parent for the rest). Prophet intervals at each cutoff are calibrated
    from the earlier cutoffs' errors when params.interval_calibration is "rolling_origin".
    """
    last = to_timestamp(end) or series_end(series)
    cutoffs = backtest_cutoffs(last, params)
    choices = choose_methods(series, cutoffs, params)
    prophet_keys = {k for k, c in choices.items() if c.method == "prophet"}
    fitted = execute(backtest_tasks(series, cutoffs, params, prophet_keys), params, progress)
    if params.interval_calibration == "rolling_origin" and last is not None:
        fitted = calibrate_intervals(series, fitted, cutoffs, last, params)
    if last is not None:
        fitted = forecast_tail(series, choices, cutoffs, fitted, params, last)
    return score_backtests(series, cutoffs, fitted, params, model_version)
