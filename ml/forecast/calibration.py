"""Out-of-sample (split-conformal, rolling-origin) calibration of the Prophet intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ml.forecast.params import ForecastParams
from ml.forecast.series import Fitted


def _to_fit_scale(values: np.ndarray, transform: str) -> np.ndarray:
    values = np.asarray(values, float)
    return np.log1p(np.maximum(values, 0.0)) if transform == "log1p" else values


def _from_fit_scale(values: np.ndarray, transform: str) -> np.ndarray:
    return np.expm1(values) if transform == "log1p" else values


def conformity_scores(
    forecast: pd.DataFrame, actual: pd.DataFrame, transform: str = "none"
) -> np.ndarray:
    """Out-of-sample errors in units of the interval's half-width on the error's side.

    In the model's fit scale (log1p or none): ``|y - yhat| / (upper - yhat)`` when the
    actual is above the point forecast, ``/ (yhat - lower)`` when below. A score <= 1 means
    the actual fell inside the interval; an interval scaled by ``q`` covers scores <= q.
    """
    joined = actual[["ds", "y"]].merge(forecast, on="ds", how="inner")
    y, yhat, lower, upper = (
        _to_fit_scale(joined[c].to_numpy(), transform)
        for c in ("y", "yhat", "yhat_lower", "yhat_upper")
    )
    err = y - yhat
    half = np.where(err >= 0, upper - yhat, yhat - lower)
    scores = np.divide(np.abs(err), half, out=np.full_like(err, np.inf), where=half > 0)
    return np.where(err == 0, 0.0, scores)


def conformal_factor(scores: np.ndarray, interval_width: float) -> float | None:
    """Split-conformal quantile: the ceil((n + 1) * width)-th smallest score (None if n small).

    Under exchangeability an interval scaled by this factor covers a new point with
    probability >= width; it needs n >= width / (1 - width) scores (4 for 80%).
    """
    scores = np.sort(np.asarray(scores, float))
    k = math.ceil((len(scores) + 1) * interval_width - 1e-9)
    if k > len(scores) or len(scores) == 0:
        return None
    return float(scores[k - 1])


def scale_interval(forecast: pd.DataFrame, factor: float, transform: str = "none") -> pd.DataFrame:
    """The forecast with both half-widths multiplied by factor in the fit scale (yhat kept)."""
    yhat = _to_fit_scale(forecast["yhat"].to_numpy(), transform)
    lower = _to_fit_scale(forecast["yhat_lower"].to_numpy(), transform)
    upper = _to_fit_scale(forecast["yhat_upper"].to_numpy(), transform)
    out = forecast.copy()
    point = out["yhat"].to_numpy(float)
    new_lower = _from_fit_scale(yhat - factor * (yhat - lower), transform)
    new_upper = _from_fit_scale(yhat + factor * (upper - yhat), transform)
    out["yhat_lower"] = np.minimum(np.maximum(new_lower, 0.0), point)
    out["yhat_upper"] = np.maximum(new_upper, point)
    return out


def calibrate_intervals(
    series: Mapping[str, pd.DataFrame],
    fitted: Fitted,
    cutoffs: Sequence[pd.Timestamp],
    end: pd.Timestamp,
    params: ForecastParams,
) -> Fitted:
    """Rolling-origin split-conformal calibration of the Prophet intervals, per series.

    Prophet's interval (trend-change draws plus bootstrapped in-sample residuals) knows
    nothing of the error that comes from fitting: it is too narrow when seasonality or
    trend are poorly identified and can be too wide when they are not. For the forecast
    made at origin T (a backtest cutoff, or ``end`` for the production forecast) this
    collects the same series' out-of-sample errors from every earlier Prophet backtest
    fit at origin T' whose evaluation window (T', T' + backtest horizon] ends on or before
    T, expresses each as a conformity score (:func:`conformity_scores`: the error over the
    interval half-width on its side, in the fit scale) and multiplies both half-widths of
    the forecast at T by the split-conformal quantile of those scores at
    ``interval_width`` (:func:`conformal_factor`). Widening or narrowing follows the
    evidence: the shape over the horizon (wider further out) is the model's, the scale is
    the out-of-sample one. Nothing after T is read, so backtests stay honest; the
    production forecast uses every backtest window (a year of errors by default) and the
    backtest fits are needed anyway, so calibration costs no extra fit.

    Forecasts with no earlier complete window (the earliest backtest origin, series with
    too short a history, fallbacks) keep the model's interval (``interval_scale`` None).
    The guarantee is marginal, over origins: errors at calm origins can set too narrow a
    factor for a volatile season and vice versa (conformal assumes exchangeable origins).
    """
    horizon = params.eval_horizon_days
    out = dict(fitted)
    for (key, cutoff), result in fitted.items():
        if result.method != "prophet" or key not in series:
            continue
        origin = end if cutoff is None else cutoff
        frame = series[key]
        scores = []
        for earlier in cutoffs:
            window_end = earlier + pd.Timedelta(days=horizon)
            source = fitted.get((key, earlier))
            if window_end > origin or source is None or source.method != "prophet":
                continue
            actual = frame[(frame["ds"] > earlier) & (frame["ds"] <= window_end)]
            scores.append(conformity_scores(source.forecast, actual, params.transform))
        pooled = np.concatenate(scores) if scores else np.empty(0)
        factor = conformal_factor(pooled, params.interval_width)
        if factor is None or not np.isfinite(factor):
            continue
        out[(key, cutoff)] = replace(
            result,
            forecast=scale_interval(result.forecast, factor, params.transform),
            interval_scale=factor,
            calibration_n=len(pooled),
        )
    return out
