"""Cost by shape: which series get a Prophet fit, and the cheap forecast of the rest.

Prophet costs a CmdStan fit per series and backtest origin (~0.3 CPU s); a shop with
hundreds of regions and dozens of departments has thousands of series, most of them small
and intermittent, where Prophet's log-scale seasonality learns little that the parent
series does not already know. So, per series:

- Prophet when it has ``min_history_days`` of history and at least
  ``prophet_min_nonzero_share`` non-zero days over the last ``volume_window_days``, taken
  largest recent volume first until ``max_prophet_fits`` fits are used (a Prophet series
  costs one production fit plus one per backtest origin it has history for);
- otherwise its **share of the parent's forecast** (category x region -> its category, else
  its region, else the total; category or region -> the total): the child's share of the
  parent's volume over the last ``share_window_days`` times the parent's forecast, with an
  interval combining the parent's (scaled by the share) and the spread of the child around
  its share over that window;
- series with too short a history keep the flagged fallbacks of forecast_series, and a
  series with no parent (the total) that Prophet cannot take gets the seasonal naive.

Each choice, its reason and the parent are recorded per series (ml.forecast_flags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from ml.forecast.baseline import seasonal_naive
from ml.forecast.params import ForecastParams, Progress
from ml.forecast.prophet_model import forecast_series
from ml.forecast.series import Fitted, SeriesForecast, series_key_parts, series_level

LEVEL_DEPTH = {"total": 0, "category": 1, "region": 1, "category_region": 2}


@dataclass(frozen=True)
class Choice:
    """How one series is forecast: prophet | share | fallback (forecast_series decides)."""

    method: str
    reason: str | None
    parent: str | None
    recent_volume: float
    nonzero_share: float


def parent_of(series_key: str, available: Mapping[str, object] | Sequence[str]) -> str | None:
    """The nearest coarser series present: category, then region, then the total."""
    level = series_level(series_key)
    parts = series_key_parts(series_key)
    if level == "category_region":
        candidates = [f"category={parts['category']}", f"region={parts['region']}", "total"]
    elif level in ("category", "region"):
        candidates = ["total"]
    else:
        candidates = []
    return next((c for c in candidates if c in available), None)


def backtest_fits(frame: pd.DataFrame, cutoffs: Sequence[pd.Timestamp], min_days: int) -> int:
    """Backtest origins with at least min_days of history (each costs one Prophet fit)."""
    ds = frame["ds"].to_numpy()
    ends = np.searchsorted(ds, np.array(cutoffs, dtype="datetime64[ns]"), side="right")
    return int((ends >= min_days).sum())


def _shape(frame: pd.DataFrame, window: int) -> tuple[float, float]:
    recent = frame["y"].to_numpy(float)[-window:]
    if recent.size == 0:
        return 0.0, 0.0
    return float(recent.sum()), float((recent > 0).mean())


def choose_methods(
    series: Mapping[str, pd.DataFrame], cutoffs: Sequence[pd.Timestamp], params: ForecastParams
) -> dict[str, Choice]:
    """The method per series (see the module docstring), in the order of series."""
    shapes = {key: _shape(frame, params.volume_window_days) for key, frame in series.items()}
    choices: dict[str, Choice] = {}
    eligible = []
    for key, frame in series.items():
        volume, nonzero = shapes[key]
        parent = parent_of(key, series)
        if len(frame) < params.min_history_days or frame["y"].nunique() == 1:
            choices[key] = Choice("fallback", None, None, volume, nonzero)
        elif nonzero < params.prophet_min_nonzero_share:
            reason = (
                f"sparse: {nonzero:.0%} non-zero days over the last {params.volume_window_days}"
                f" < prophet_min_nonzero_share={params.prophet_min_nonzero_share:.0%}"
            )
            choices[key] = Choice("share", reason, parent, volume, nonzero)
        else:
            eligible.append(key)
    budget = params.max_prophet_fits
    for key in sorted(eligible, key=lambda k: (-shapes[k][0], k)):
        volume, nonzero = shapes[key]
        cost = 1 + backtest_fits(series[key], cutoffs, params.min_history_days)
        if budget is None or cost <= budget:
            budget = None if budget is None else budget - cost
            choices[key] = Choice("prophet", None, None, volume, nonzero)
        else:
            reason = f"beyond max_prophet_fits={params.max_prophet_fits} (smaller recent volume)"
            choices[key] = Choice("share", reason, parent_of(key, series), volume, nonzero)
    return {key: choices[key] for key in series}


def top_down(keys: Sequence[str]) -> list[str]:
    """Keys ordered so that every parent comes before its children."""
    return sorted(keys, key=lambda k: (LEVEL_DEPTH[series_level(k)], k))


def share_values(
    child: np.ndarray,
    parent: np.ndarray,
    parent_forecast: tuple[np.ndarray, np.ndarray, np.ndarray],
    params: ForecastParams,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float]:
    """((yhat, lower, upper), share) from the histories' values, both ending at the origin."""
    window = min(params.share_window_days, len(child), len(parent))
    child, parent = child[len(child) - window :], parent[len(parent) - window :]
    total = float(parent.sum())
    share = float(child.sum()) / total if total > 0 else 0.0
    resid = child - share * parent
    spread = _z(params.interval_width) * (float(np.std(resid, ddof=1)) if resid.size > 1 else 0.0)
    p_yhat, p_lower, p_upper = parent_forecast
    yhat = share * p_yhat
    lower = np.maximum(yhat - np.hypot(share * (p_yhat - p_lower), spread), 0.0)
    upper = yhat + np.hypot(share * (p_upper - p_yhat), spread)
    return (yhat, lower, upper), share


@lru_cache(maxsize=8)
def _z(width: float) -> float:
    return NormalDist().inv_cdf(0.5 + width / 2)


def _frame(ds: np.ndarray, values: tuple[np.ndarray, np.ndarray, np.ndarray]) -> pd.DataFrame:
    yhat, lower, upper = values
    return pd.DataFrame({"ds": ds, "yhat": yhat, "yhat_lower": lower, "yhat_upper": upper})


def share_forecast(
    history: pd.DataFrame,
    parent_history: pd.DataFrame,
    parent_forecast: pd.DataFrame,
    params: ForecastParams,
) -> tuple[pd.DataFrame, float]:
    """The child's share of the parent's forecast, and the share (see the module docstring).

    Both histories end on the same day (the origin); the share is measured over the last
    share_window_days of the child's history (all of it when shorter).
    """
    parent_values = tuple(
        parent_forecast[c].to_numpy(float) for c in ("yhat", "yhat_lower", "yhat_upper")
    )
    values, share = share_values(
        history["y"].to_numpy(float), parent_history["y"].to_numpy(float), parent_values, params
    )
    return _frame(parent_forecast["ds"].to_numpy(), values), share


@dataclass(frozen=True)
class _Origin:
    """One forecast origin of the tail: None (production) or a backtest cutoff."""

    cutoff: pd.Timestamp | None
    start: pd.Timestamp
    horizon: int


def _history_end(frame: pd.DataFrame, origin: _Origin) -> int:
    if origin.cutoff is None:
        return len(frame)
    return int(np.searchsorted(frame["ds"].to_numpy(), np.datetime64(origin.cutoff), side="right"))


def _tail_forecast(
    key: str,
    choice: Choice,
    series: Mapping[str, pd.DataFrame],
    origin: _Origin,
    out: Fitted,
    params: ForecastParams,
) -> SeriesForecast | None:
    """The share (or seasonal-naive) forecast of one tail series at one origin (None: skip)."""
    frame = series[key]
    n = _history_end(frame, origin)
    if origin.cutoff is not None and n < params.min_history_days:
        return None
    parent_fc = out.get((choice.parent, origin.cutoff)) if choice.parent else None
    if parent_fc is None:
        why = "no parent series" if choice.parent is None else f"no forecast of {choice.parent}"
        naive = seasonal_naive(frame.iloc[:n], origin.horizon, params.interval_width, origin.start)
        return SeriesForecast(key, "seasonal_naive", f"{choice.reason}; {why}", naive)
    parent = series[choice.parent]
    p_end = _history_end(parent, origin)
    pf = parent_fc.forecast
    parent_values = tuple(pf[c].to_numpy(float) for c in ("yhat", "yhat_lower", "yhat_upper"))
    values, share = share_values(
        frame["y"].to_numpy(float)[:n], parent["y"].to_numpy(float)[:p_end], parent_values, params
    )
    forecast = _frame(pf["ds"].to_numpy(), values)
    reason = f"{choice.reason}; {share:.2%} of {choice.parent}"
    return SeriesForecast(key, "share", reason, forecast)


def forecast_tail(
    series: Mapping[str, pd.DataFrame],
    choices: Mapping[str, Choice],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Fitted,
    params: ForecastParams,
    end: pd.Timestamp,
    progress: Progress | None = None,
) -> Fitted:
    """fitted plus the production and backtest forecasts of every series not fitted by Prophet.

    Parents come first (top_down), so a share child reads its parent's forecast at the same
    origin, whether the parent is a Prophet fit or itself a share. Backtest origins follow
    the Prophet rule (min_history_days of history at the origin); fallbacks have none.
    """
    out = dict(fitted)
    origins = [_Origin(None, end, params.horizon_days)]
    origins += [_Origin(c, c, params.eval_horizon_days) for c in cutoffs]
    tail = top_down([key for key, choice in choices.items() if choice.method != "prophet"])
    for done, key in enumerate(tail, start=1):
        choice = choices[key]
        if choice.method == "fallback":
            out[(key, None)] = forecast_series(series[key], params, key, params.horizon_days, end)
        else:
            for origin in origins:
                result = _tail_forecast(key, choice, series, origin, out, params)
                if result is not None:
                    out[(key, origin.cutoff)] = result
        if progress:
            progress(done, len(tail))
    return out
