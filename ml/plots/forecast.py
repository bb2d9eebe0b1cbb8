"""Forecast figures: a series with its band and components, and the backtest summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ml.forecast import ForecastResult, SeriesForecast


def figures(result: ForecastResult) -> dict[str, Figure]:
    """The run's figures by file name: the top series, then the backtest summary."""
    out: dict[str, Figure] = {}
    for key in result.top_series:
        out[figure_name(key)] = plot_series(
            key, result.history[key], result.fitted[key], result.metric
        )
    if not result.backtests.empty:
        out["backtest_summary"] = plot_backtest_summary(result.backtests)
    return out


def figure_name(series_key: str) -> str:
    """File name of a series' figure: forecast_category-toys__region-north for a key."""
    return "forecast_" + series_key.replace("|", "__").replace("=", "-")


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def plot_series(
    series_key: str,
    history: pd.DataFrame,
    result: SeriesForecast,
    metric: str,
    history_days: int = 365,
) -> Figure:
    """Last year of actuals, the forecast with its interval band, and Prophet's components."""
    comps = result.components
    extra = [c for c in ("weekly", "yearly", "holidays") if comps is not None and c in comps]
    n_rows = 1 + (1 + len(extra) if comps is not None else 0)
    fig = Figure(figsize=(11, 3.2 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, 1, squeeze=False)[:, 0]

    ax = axes[0]
    recent = history.tail(history_days)
    fc = result.forecast
    ax.plot(recent["ds"], recent["y"], color="0.35", lw=0.8, label="actual")
    ax.plot(fc["ds"], fc["yhat"], color="C0", lw=1.4, label=f"forecast ({result.method})")
    band = "interval"
    if result.interval_scale is not None:
        band += f" (out-of-sample calibrated, x{result.interval_scale:.2f})"
    ax.fill_between(
        fc["ds"], fc["yhat_lower"], fc["yhat_upper"], color="C0", alpha=0.25, label=band
    )
    title = f"{series_key}: daily {metric}"
    if result.reason:
        title += f"  [fallback: {result.reason}]"
    ax.set_title(title)
    ax.set_ylabel(metric)
    ax.legend(loc="upper left", fontsize=8)

    if comps is None:
        return fig
    axes[1].plot(comps["ds"], comps["trend"], color="C1")
    axes[1].axvline(fc["ds"].iloc[0], color="0.5", ls="--", lw=0.8)
    axes[1].set_title(
        "trend" if result.component_scale == "none" else f"trend ({result.component_scale} scale)"
    )
    for ax, name in zip(axes[2:], extra, strict=True):
        if name == "weekly":
            week = comps.head(7 * 8).assign(dow=lambda d: d["ds"].dt.dayofweek)
            effect = week.groupby("dow")["weekly"].mean().reindex(range(7))
            ax.bar(WEEKDAYS, effect.to_numpy(), color="C2")
        elif name == "yearly":
            year = comps.assign(doy=lambda d: d["ds"].dt.dayofyear)
            effect = year.groupby("doy")["yearly"].mean()
            ax.plot(effect.index, effect.to_numpy(), color="C3")
            ax.set_xlabel("day of year")
        else:
            ax.plot(comps["ds"], comps["holidays"], color="C4", lw=0.8)
        scale = "" if result.component_scale == "none" else f" ({result.component_scale} scale)"
        ax.set_title(f"{name} effect{scale}")
    return fig


def plot_backtest_summary(backtests: pd.DataFrame) -> Figure:
    """Mean MASE and interval coverage by level, Prophet against seasonal naive."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_mase, ax_cov = fig.subplots(1, 2)
    table = backtests.replace([np.inf, -np.inf], np.nan).pivot_table(
        index="level", columns="model", values=["mase", "coverage"], aggfunc="mean"
    )
    levels = list(table.index)
    x = np.arange(len(levels))
    models = sorted(backtests["model"].unique())
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        ax_mase.bar(x + i * width, table[("mase", model)], width, label=model)
        ax_cov.bar(x + i * width, table[("coverage", model)], width, label=model)
    for ax, title in ((ax_mase, "mean MASE (lower is better)"), (ax_cov, "interval coverage")):
        ax.set_xticks(x + width * (len(models) - 1) / 2, levels)
        ax.set_title(title)
        ax.legend(fontsize=8)
    ax_mase.axhline(1.0, color="0.5", ls="--", lw=0.8)
    return fig
