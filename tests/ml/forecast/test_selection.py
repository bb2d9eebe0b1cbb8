"""#14.6: cost by shape: Prophet where it pays, within a cap; shares of the parent for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.forecast import (
    ForecastParams,
    build_series,
    choose_methods,
    run_forecasting,
    share_forecast,
)
from ml.forecast.backtest import backtest_cutoffs
from ml.forecast.selection import parent_of
from tests.ml.forecast.shops import basket_orders, daily_demand, daily_orders

REGIONS = {
    "big": (60.0, {"DE": 1.0}),
    "mid": (20.0, {"DE": 1.0}),
    "tiny": (0.4, {"DE": 1.0}),  # a store with an order every few days
}
PARAMS = ForecastParams(
    horizon_days=14,
    backtest_cutoffs=2,
    backtest_horizon_days=14,
    backtest_window_days=60,
    uncertainty_samples=20,
    top_n_plots=1,
    n_jobs=1,
    max_prophet_fits=9,  # 3 series x (production + 2 backtest origins)
)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return basket_orders(REGIONS, ("dairy", "bakery"), days=200, basket_categories=(1, 2))


@pytest.fixture(scope="module")
def result(lines):
    calls: list[tuple[int, int]] = []
    out = run_forecasting(
        daily_demand(lines),
        PARAMS,
        order_counts=daily_orders(lines),
        progress=lambda done, total: calls.append((done, total)),
    )
    return out, calls


def test_the_largest_series_get_prophet_until_the_cap_the_rest_a_share(lines) -> None:
    series = build_series(daily_demand(lines), order_counts=daily_orders(lines))
    end = series["total"]["ds"].iloc[-1]
    choices = choose_methods(series, backtest_cutoffs(end, PARAMS), PARAMS)
    prophet = {k for k, c in choices.items() if c.method == "prophet"}
    volume = {k: series[k]["y"].tail(90).sum() for k in series}
    dense = sorted((k for k in series if "tiny" not in k), key=lambda k: (-volume[k], k))
    assert dense[0] == "total" and prophet == set(dense[:3])
    tiny = choices["region=tiny"]
    assert tiny.method == "share" and "sparse" in tiny.reason and tiny.parent == "total"
    capped = [c for k, c in choices.items() if c.method == "share" and "tiny" not in k]
    assert capped and all("max_prophet_fits=9" in c.reason for c in capped)
    assert choices["category=dairy|region=mid"].parent == "category=dairy"
    assert parent_of("category=dairy|region=mid", ["region=mid", "total"]) == "region=mid"

    unlimited = ForecastParams(**{**PARAMS.__dict__, "max_prophet_fits": None})
    every = choose_methods(series, backtest_cutoffs(end, unlimited), unlimited)
    assert {c.method for k, c in every.items() if "tiny" not in k} == {"prophet"}


def test_each_choice_is_recorded_and_the_cap_holds(result) -> None:
    out, calls = result
    flags = out.flags.set_index("series_key")
    assert out.run.metrics["n_fits"] <= PARAMS.max_prophet_fits
    assert (flags["method"] == "prophet").sum() == 3
    shares = flags[flags["method"] == "share"]
    assert len(shares) == len(flags) - 3
    assert shares["parent_key"].notna().all() and shares["reason"].notna().all()
    assert flags["holiday_country"].where(flags["method"] == "prophet").notna().sum() == 3
    assert out.run.metrics["methods"] == {"prophet": 3, "share": len(shares)}
    # progress: every Prophet fit, then every tail series, in order, to the end
    assert calls[-1] == (out.run.metrics["n_fits"] + len(shares),) * 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_share_forecast_is_its_share_of_the_parent_and_is_backtested(result) -> None:
    out, _ = result
    flags = out.flags.set_index("series_key")
    key = "region=tiny"
    parent = flags.loc[key, "parent_key"]
    child_fc = out.fitted[key].forecast
    parent_fc = out.fitted[parent].forecast
    ratio = child_fc["yhat"].to_numpy() / parent_fc["yhat"].to_numpy()
    np.testing.assert_allclose(ratio, ratio[0])
    history = out.history
    share = history[key]["y"].tail(56).sum() / history[parent]["y"].tail(56).sum()
    assert ratio[0] == pytest.approx(share)
    assert (child_fc["yhat_lower"] <= child_fc["yhat"]).all()
    assert (child_fc["yhat"] < child_fc["yhat_upper"]).all()

    bt = out.backtests
    share_rows = bt[bt["model"] == "share"]
    assert set(share_rows["series_key"]) == set(flags.index[flags["method"] == "share"])
    assert share_rows["cutoff"].nunique() == PARAMS.backtest_cutoffs
    by_model = out.run.metrics["by_model"]
    assert by_model["share"]["n_evals"] == len(share_rows)
    assert out.run.metrics["total"]["n_evals"] == PARAMS.backtest_cutoffs


def test_share_interval_adds_the_childs_own_spread() -> None:
    ds = pd.date_range("2025-01-01", periods=56, freq="D")
    parent = pd.DataFrame({"ds": ds, "y": 100.0})
    child = pd.DataFrame({"ds": ds, "y": np.tile([5.0, 15.0], 28)})
    future = pd.DataFrame(
        {
            "ds": pd.date_range("2025-02-26", periods=7, freq="D"),
            "yhat": 200.0,
            "yhat_lower": 180.0,
            "yhat_upper": 220.0,
        }
    )
    frame, share = share_forecast(child, parent, future, PARAMS)
    assert share == pytest.approx(0.1)
    np.testing.assert_allclose(frame["yhat"], 20.0)
    half = frame["yhat_upper"] - frame["yhat"]
    assert (half > 2.0).all()  # wider than the parent's interval times the share
