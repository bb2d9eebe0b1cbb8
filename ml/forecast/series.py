"""Daily demand series per level (total, category, region, category x region), and the
shape of one series' forecast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.forecast.params import KEY_NAMES, LEVEL_COLUMNS, UNKNOWN, AsOf


@dataclass
class SeriesForecast:
    """One series' forecast: the method used, why, the frame and (optionally) components."""

    series_key: str
    method: str  # prophet | seasonal_naive | mean | zero
    reason: str | None
    forecast: pd.DataFrame  # ds, yhat, yhat_lower, yhat_upper
    components: pd.DataFrame | None = None  # ds, y, trend, weekly, yearly, holidays, yhat
    component_scale: str = "none"  # the transform the components are expressed in
    # Conformal factor applied to the interval half-widths (None: not calibrated) and the
    # number of out-of-sample errors it was estimated from.
    interval_scale: float | None = None
    calibration_n: int = 0
    # The Prophet fit as prophet.serialize JSON (production fits only; the model registry
    # stores it so later runs predict without refitting).
    model_json: str | None = None


# Fitted forecasts keyed by (series key, backtest origin); origin None: the production one.
Fitted = dict[tuple[str, pd.Timestamp | None], SeriesForecast]


def series_level(series_key: str) -> str:
    """Level of a series key ('total', 'category', 'region' or 'category_region')."""
    if series_key == "total":
        return "total"
    names = tuple(part.split("=", 1)[0] for part in series_key.split("|"))
    for level, cols in LEVEL_COLUMNS.items():
        if names == tuple(KEY_NAMES[c] for c in cols):
            return level
    raise ValueError(f"not a series key: {series_key!r}")


def series_key_parts(series_key: str) -> dict[str, str]:
    """Key names -> values of a series key ('category=toys|region=north')."""
    if series_key == "total":
        return {}
    return dict(part.split("=", 1) for part in series_key.split("|"))


def to_timestamp(value: AsOf) -> pd.Timestamp | None:
    """Midnight timestamp of a date-like value (None stays None)."""
    if value is None:
        return None
    return pd.Timestamp(value).normalize()


def prepare_demand(daily_demand: pd.DataFrame, metric: str, as_of: AsOf) -> pd.DataFrame:
    """daily_demand as (ds, category, store_region, y) for one metric, cut at as_of."""
    needed = {"demand_date", "category", "store_region", metric}
    missing = needed - set(daily_demand.columns)
    if missing:
        raise ValueError(f"daily_demand lacks columns {sorted(missing)}")
    df = pd.DataFrame(
        {
            "ds": pd.to_datetime(daily_demand["demand_date"]).dt.normalize(),
            "category": daily_demand["category"].fillna(UNKNOWN).astype(str),
            "store_region": daily_demand["store_region"].fillna(UNKNOWN).astype(str),
            "y": pd.to_numeric(daily_demand[metric]).fillna(0).astype(float),
        }
    )
    cut = to_timestamp(as_of)
    if cut is not None:
        df = df[df["ds"] <= cut]
    return df


def _trim_leading_zeros(values: pd.Series) -> pd.DataFrame:
    nonzero = np.flatnonzero(values.to_numpy() != 0)
    kept = values.iloc[nonzero[0] :] if nonzero.size else values.iloc[:0]
    return pd.DataFrame({"ds": kept.index, "y": kept.to_numpy(dtype=float)})


def prepare_order_counts(order_counts: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Distinct orders per day and region (marts.daily_orders) as (ds, store_region, y)."""
    needed = {"demand_date", "store_region", "orders"}
    missing = needed - set(order_counts.columns)
    if missing:
        raise ValueError(f"daily_orders lacks columns {sorted(missing)}")
    df = pd.DataFrame(
        {
            "ds": pd.to_datetime(order_counts["demand_date"]).dt.normalize(),
            "store_region": order_counts["store_region"].fillna(UNKNOWN).astype(str),
            "y": pd.to_numeric(order_counts["orders"]).fillna(0).astype(float),
        }
    )
    cut = to_timestamp(as_of)
    return df[df["ds"] <= cut] if cut is not None else df


def needs_order_counts(levels: Sequence[str], metric: str) -> bool:
    """Whether a level above the category is asked for order counts (distinct orders)."""
    return metric == "orders" and any("category" not in LEVEL_COLUMNS[lv] for lv in levels)


def _level_frame(level: str, df: pd.DataFrame, counts: pd.DataFrame | None) -> pd.DataFrame:
    """The rows a level sums: distinct order counts above the category, else daily_demand.

    A basket spanning three categories is one order in its day's total and its region but
    one order in each of the three category series; daily_demand has a row per category,
    so only levels that split by category may sum it for order counts.
    """
    if counts is not None and "category" not in LEVEL_COLUMNS[level]:
        return counts
    return df


def build_series(
    daily_demand: pd.DataFrame,
    levels: Sequence[str] = ("total", "category", "region", "category_region"),
    metric: str = "orders",
    as_of: AsOf = None,
    order_counts: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Daily series (ds, y) per series key for each level, cut at as_of, from first demand on.

    Each level forecasts what its name says. For ``metric="orders"`` the total and region
    levels count distinct orders, read from order_counts (marts.daily_orders: demand_date,
    store_region, orders); category levels sum daily_demand. Units and revenue are additive,
    so every level sums daily_demand (bottom-up).
    """
    df = prepare_demand(daily_demand, metric, as_of)
    counts = None
    if needs_order_counts(levels, metric):
        if order_counts is None:
            raise ValueError(
                "order counts at the total or region level need distinct orders per day and "
                "region (marts.daily_orders): daily_demand counts a basket once per category"
            )
        counts = prepare_order_counts(order_counts, as_of)
    dates = pd.concat([df["ds"], counts["ds"]]) if counts is not None else df["ds"]
    if dates.empty:
        return {"total": pd.DataFrame({"ds": pd.to_datetime([]), "y": []})} if levels else {}
    days = pd.date_range(dates.min(), dates.max(), freq="D")
    out: dict[str, pd.DataFrame] = {}
    for level in levels:
        cols = list(LEVEL_COLUMNS[level])
        source = _level_frame(level, df, counts)
        if not cols:
            out["total"] = _trim_leading_zeros(
                source.groupby("ds")["y"].sum().reindex(days, fill_value=0.0)
            )
            continue
        for values, part in source.groupby(cols, sort=True):
            values = values if isinstance(values, tuple) else (values,)
            key = "|".join(f"{KEY_NAMES[c]}={v}" for c, v in zip(cols, values, strict=True))
            daily = part.groupby("ds")["y"].sum().reindex(days, fill_value=0.0)
            out[key] = _trim_leading_zeros(daily)
    return out


def series_end(series: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The last day of any series (None when every series is empty)."""
    ends = [frame["ds"].iloc[-1] for frame in series.values() if len(frame)]
    return max(ends) if ends else None


def top_series(series: Mapping[str, pd.DataFrame], n: int) -> list[str]:
    """The n series with most volume over their last year, largest first (ties by key)."""
    volume = {key: float(frame["y"].tail(365).sum()) for key, frame in series.items()}
    return sorted(volume, key=lambda k: (-volume[k], k))[:n]
