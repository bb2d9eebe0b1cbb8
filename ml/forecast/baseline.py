"""The seasonal-naive baseline (same weekday last week), also the fallback forecast."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from ml.forecast.params import SEASON, AsOf
from ml.forecast.series import to_timestamp


def future_dates(last: pd.Timestamp, horizon_days: int) -> pd.DatetimeIndex:
    """The horizon_days days after last."""
    return pd.date_range(last + pd.Timedelta(days=1), periods=horizon_days, freq="D")


def seasonal_naive_values(
    y: np.ndarray, horizon_days: int, interval_width: float = 0.8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yhat, yhat_lower, yhat_upper) of the seasonal naive after the values y (arrays only)."""
    y = np.asarray(y, dtype=float)
    steps = np.arange(horizon_days)
    if len(y) >= SEASON:
        yhat = y[-SEASON:][steps % SEASON]
        resid = y[SEASON:] - y[:-SEASON]
        sigma = float(np.std(resid, ddof=1)) if resid.size > 1 else 0.0
        sd = sigma * np.sqrt(steps // SEASON + 1)
    else:
        level = float(y.mean()) if len(y) else 0.0
        yhat = np.full(horizon_days, level)
        sd = np.full(horizon_days, float(np.std(y, ddof=1)) if len(y) > 1 else 0.0)
    z = NormalDist().inv_cdf(0.5 + interval_width / 2)
    return yhat, np.maximum(yhat - z * sd, 0.0), yhat + z * sd


def seasonal_naive(
    history: pd.DataFrame,
    horizon_days: int,
    interval_width: float = 0.8,
    start: AsOf = None,
) -> pd.DataFrame:
    """Same-weekday-last-week forecast with normal intervals widening per season ahead."""
    y = history["y"].to_numpy(dtype=float)
    last = pd.Timestamp(history["ds"].iloc[-1]) if len(y) else to_timestamp(start)
    if last is None:
        raise ValueError("empty history needs a start date")
    yhat, lower, upper = seasonal_naive_values(y, horizon_days, interval_width)
    ds = future_dates(last, horizon_days)
    return pd.DataFrame({"ds": ds, "yhat": yhat, "yhat_lower": lower, "yhat_upper": upper})
