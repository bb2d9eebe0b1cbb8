"""Forecast figures: a series with its band and components, and the backtest summary.

A series' title states how much demand is expected over the horizon against the same number
of days just before; the backtest summary's how the forecasts compare with the
seasonal-naive baseline, which it draws as a line over the forecasts' bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ml.forecast import ForecastResult, SeriesForecast
from ml.plots.style import BASELINE_LINE, REFERENCE_LINE, change, count, headline

NAIVE = "seasonal_naive"
METHOD_WORDS = {
    "prophet": "Prophet",
    "share": "share of the parent series",
    NAIVE: "seasonal naive (last week repeated)",
    "mean": "recent daily mean",
    "zero": "zero (no recent demand)",
}
LEVEL_WORDS = {
    "total": "all demand",
    "category": "by category",
    "region": "by region",
    "category_region": "by category and region",
}


def figures(result: ForecastResult) -> dict[str, Figure]:
    """The run's figures by file name: the top series, then the backtest summary."""
    width = result.run.params.get("interval_width")
    out: dict[str, Figure] = {}
    for key in result.top_series:
        out[figure_name(key)] = plot_series(
            key, result.history[key], result.fitted[key], result.metric, interval_width=width
        )
    if not result.backtests.empty:
        out["backtest_summary"] = plot_backtest_summary(result.backtests, interval_width=width)
    return out


def figure_name(series_key: str) -> str:
    """File name of a series' figure: forecast_category-toys__region-north for a key."""
    return "forecast_" + series_key.replace("|", "__").replace("=", "-")


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def series_words(series_key: str) -> str:
    """A series key in words: 'category=toys|region=north' -> 'category toys, region north'."""
    if series_key == "total":
        return "all demand"
    return ", ".join(part.replace("=", " ") for part in series_key.split("|"))


def _amount(value: float, metric: str) -> str:
    return f"revenue of {count(value)}" if metric == "revenue" else f"{count(value)} {metric}"


def series_title(
    series_key: str, history: pd.DataFrame, forecast: pd.DataFrame, metric: str
) -> str:
    """'Forecast: 1,240 orders expected in the next 28 days, +6% on the last 28'."""
    days = len(forecast)
    expected = float(forecast["yhat"].sum())
    who = "" if series_key == "total" else f" for {series_words(series_key)}"
    title = f"Forecast{who}: {_amount(expected, metric)} expected in the next {days} days"
    if len(history) >= days:
        delta = change(expected, float(history["y"].tail(days).sum()))
        if delta is not None:
            title += f", {delta} on the last {days}"
    return title


def series_subtitle(
    history: pd.DataFrame, result: SeriesForecast, metric: str, interval_width: float | None
) -> str:
    """The history window, the method (and why a fallback) and the forecast's interval."""
    fc = result.forecast
    text = "No history"
    if len(history):
        first, last = history["ds"].iloc[0], history["ds"].iloc[-1]
        text = (
            f"Daily {metric} from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({count(len(history))} days)"
        )
    method = METHOD_WORDS.get(result.method, result.method)
    text += f"; forecast to {fc['ds'].iloc[-1]:%Y-%m-%d} by {method}"
    if result.reason:
        text += f" (fallback: {result.reason})"
    if interval_width is not None:
        text += f"; band: {interval_width:.0%} interval"
    if result.interval_scale is not None:
        verb = "widened" if result.interval_scale >= 1 else "narrowed"
        text += f", {verb} x{result.interval_scale:.2f} to match past errors"
    return text


def plot_series(
    series_key: str,
    history: pd.DataFrame,
    result: SeriesForecast,
    metric: str,
    history_days: int = 365,
    interval_width: float | None = None,
) -> Figure:
    """Last year of actuals, the forecast with its interval band, and Prophet's components."""
    comps = result.components
    extra = [c for c in ("weekly", "yearly", "holidays") if comps is not None and c in comps]
    n_rows = 1 + (1 + len(extra) if comps is not None else 0)
    fig = Figure(figsize=(11, 3.2 * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, 1, squeeze=False)[:, 0]

    ax = axes[0]
    recent = history.tail(history_days)
    fc = result.forecast
    ax.plot(recent["ds"], recent["y"], color="0.35", lw=0.8, label="actual")
    ax.plot(fc["ds"], fc["yhat"], color="C0", lw=1.4, label="forecast")
    ax.fill_between(
        fc["ds"], fc["yhat_lower"], fc["yhat_upper"], color="C0", alpha=0.25, label="interval"
    )
    ax.set_xlabel("date")
    ax.set_ylabel(f"{metric} per day")
    ax.legend(loc="upper left", fontsize=8)
    headline(
        fig,
        series_title(series_key, history, fc, metric),
        series_subtitle(history, result, metric, interval_width),
    )
    if comps is not None:
        _components(axes[1:], comps, extra, result, metric)
    return fig


def _components(
    axes: np.ndarray, comps: pd.DataFrame, extra: list[str], result: SeriesForecast, metric: str
) -> None:
    """Prophet's trend and seasonal effects, one panel each, titled in words."""
    logged = result.component_scale != "none"
    scale = " (log scale: 0.1 is about +10%)" if logged else ""
    unit = f"log(1 + {metric} per day)" if logged else f"{metric} per day"
    axes[0].plot(comps["ds"], comps["trend"], color="C1")
    axes[0].axvline(result.forecast["ds"].iloc[0], color="0.5", ls="--", lw=0.8)
    axes[0].set_title(f"Trend (dashed: forecast starts){scale}", loc="left", fontsize=10)
    axes[0].set_xlabel("date")
    axes[0].set_ylabel(unit)
    titles = {"weekly": "Day-of-week effect", "yearly": "Time-of-year effect"}
    for ax, name in zip(axes[1:], extra, strict=True):
        if name == "weekly":
            week = comps.head(7 * 8).assign(dow=lambda d: d["ds"].dt.dayofweek)
            effect = week.groupby("dow")["weekly"].mean().reindex(range(7))
            ax.bar(WEEKDAYS, effect.to_numpy(), color="C2")
            ax.set_xlabel("day of the week")
        elif name == "yearly":
            year = comps.assign(doy=lambda d: d["ds"].dt.dayofyear)
            effect = year.groupby("doy")["yearly"].mean()
            ax.plot(effect.index, effect.to_numpy(), color="C3")
            ax.set_xlabel("day of the year")
        else:
            ax.plot(comps["ds"], comps["holidays"], color="C4", lw=0.8)
            ax.set_xlabel("date")
        ax.set_title(titles.get(name, "Holiday effect") + scale, loc="left", fontsize=10)
        ax.set_ylabel(f"effect on {unit}")


def backtest_title(backtests: pd.DataFrame) -> str:
    """The published forecasts' mean MASE (each series' own method) against the
    seasonal-naive baseline's on the same series and origins."""
    finite = backtests.replace([np.inf, -np.inf], np.nan)
    own = finite[finite["model"] != NAIVE]
    naive = finite[finite["model"] == NAIVE]
    keys = ["series_key", "cutoff"]
    both = (
        own.groupby(keys)["mase"].mean().to_frame("own").join(naive.set_index(keys)["mase"])
    ).dropna()
    if both.empty:
        return "Backtests: no origin scored both a forecast and the seasonal-naive baseline"
    model, base = float(both["own"].mean()), float(both["mase"].mean())
    wins = float((both["own"] < both["mase"]).mean())
    verdict = "beat" if model < base else "do not beat"
    return (
        f"Forecasts {verdict} the seasonal-naive baseline: mean error (MASE) {model:.2f} vs "
        f"{base:.2f}, lower on {wins:.0%} of {len(both)} backtests"
    )


def backtest_subtitle(backtests: pd.DataFrame) -> str:
    """Which series, origins and horizon the backtests cover."""
    cutoffs = pd.to_datetime(backtests["cutoff"])
    n = cutoffs.nunique()
    origins = (
        f"1 forecast origin, {cutoffs.min():%Y-%m-%d}"
        if n == 1
        else f"{n} forecast origins from {cutoffs.min():%Y-%m-%d} to {cutoffs.max():%Y-%m-%d}"
    )
    horizon = backtests["horizon_days"].iloc[0] if "horizon_days" in backtests else None
    ahead = f", each {horizon} days ahead" if horizon is not None else ""
    return (
        f"{count(backtests['series_key'].nunique())} series, {origins}{ahead}; "
        "the baseline on the same series and origins"
    )


def same_backtests(backtests: pd.DataFrame) -> pd.DataFrame:
    """The forecasts' backtests and the baseline's on the same series and origins only."""
    own = backtests[backtests["model"] != NAIVE]
    naive = backtests[backtests["model"] == NAIVE]
    if own.empty:
        return naive
    pairs = own[["series_key", "cutoff"]].drop_duplicates()
    return pd.concat([own, naive.merge(pairs, on=["series_key", "cutoff"])], ignore_index=True)


def _rank(order: list[str], item: str) -> int:
    return order.index(item) if item in order else len(order)


def _bars_and_baseline(ax: Axes, table: pd.DataFrame, value: str, models: list[str]) -> None:
    """One bar per model and level, the seasonal-naive baseline as a line across the levels."""
    x = np.arange(len(table.index))
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        offset = (i - (len(models) - 1) / 2) * width
        ax.bar(x + offset, table[(value, model)], width, label=METHOD_WORDS.get(model, model))
    if (value, NAIVE) in table.columns:
        ax.plot(x, table[(value, NAIVE)], **BASELINE_LINE, label="seasonal naive (baseline)")
    ax.set_xticks(x, [LEVEL_WORDS.get(lv, lv) for lv in table.index])
    ax.set_xlabel("series level")


def plot_backtest_summary(backtests: pd.DataFrame, interval_width: float | None = None) -> Figure:
    """Mean MASE and interval coverage by level: forecasts as bars, seasonal naive as a line."""
    fig = Figure(figsize=(11, 5), layout="constrained")
    ax_mase, ax_cov = fig.subplots(1, 2)
    same = same_backtests(backtests)
    table = same.replace([np.inf, -np.inf], np.nan).pivot_table(
        index="level", columns="model", values=["mase", "coverage"], aggfunc="mean"
    )
    order = list(LEVEL_WORDS)
    table = table.reindex(sorted(table.index, key=lambda lv: (_rank(order, lv), lv)))
    models = sorted(m for m in backtests["model"].unique() if m != NAIVE)
    _bars_and_baseline(ax_mase, table, "mase", models)
    ax_mase.set_ylabel("mean error (MASE), lower is better")
    _bars_and_baseline(ax_cov, table, "coverage", models)
    ax_cov.set_ylabel("share of actual days inside the interval")
    if interval_width is not None:
        ax_cov.axhline(interval_width, **REFERENCE_LINE, label=f"target {interval_width:.0%}")
    handles, labels = ax_cov.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    headline(fig, backtest_title(backtests), backtest_subtitle(same))
    return fig
