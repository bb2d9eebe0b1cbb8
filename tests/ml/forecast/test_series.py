"""#14.3: every level forecasts what its name says; distinct orders for order counts."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.forecast import ForecastParams, build_series, run_forecasting
from tests.ml.forecast.shops import basket_orders, daily_demand, daily_orders

REGIONS = {"north": (30.0, {"DE": 1.0}), "south": (12.0, {"DE": 1.0})}


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return basket_orders(REGIONS)


def _distinct(lines: pd.DataFrame, by: list[str]) -> pd.Series:
    return lines.groupby(by)["order_id"].nunique()


def test_total_and_region_series_count_each_basket_once(lines: pd.DataFrame) -> None:
    demand, counts = daily_demand(lines), daily_orders(lines)
    series = build_series(demand, order_counts=counts)

    total = series["total"].set_index("ds")["y"]
    truth = _distinct(lines, ["demand_date"])
    truth.index = pd.to_datetime(truth.index)
    pd.testing.assert_series_equal(total, truth.astype(float), check_names=False)
    # the bug: summing daily_demand over categories counts a 3-category basket 3 times
    assert demand["orders"].sum() > 1.5 * total.sum()

    for region in REGIONS:
        got = series[f"region={region}"]["y"].sum()
        assert got == lines.loc[lines["store_region"] == region, "order_id"].nunique()
    for category in lines["category"].unique():
        got = series[f"category={category}"]["y"].sum()
        assert got == lines.loc[lines["category"] == category, "order_id"].nunique()
        cell = series[f"category={category}|region=north"]["y"].sum()
        mask = (lines["category"] == category) & (lines["store_region"] == "north")
        assert cell == lines.loc[mask, "order_id"].nunique()


def test_additive_measures_stay_bottom_up(lines: pd.DataFrame) -> None:
    demand = daily_demand(lines)
    series = build_series(demand, ("total", "region"), metric="revenue")
    assert series["total"]["y"].sum() == pytest.approx(demand["revenue"].sum())


def test_order_counts_above_the_category_refuse_to_sum_categories(lines: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="distinct orders"):
        build_series(daily_demand(lines), ("total",))
    only_categories = build_series(daily_demand(lines), ("category", "category_region"))
    assert "total" not in only_categories


def test_total_forecast_and_backtest_are_on_distinct_orders(lines: pd.DataFrame) -> None:
    demand, counts = daily_demand(lines), daily_orders(lines)
    params = ForecastParams(
        levels=("total",),
        horizon_days=14,
        backtest_cutoffs=1,
        backtest_horizon_days=14,
        uncertainty_samples=30,
        top_n_plots=0,
        n_jobs=1,
    )
    result = run_forecasting(demand, params, order_counts=counts)
    daily_truth = _distinct(lines, ["demand_date"]).mean()
    level = result.forecasts["yhat"].mean()
    assert 0.7 * daily_truth < level < 1.3 * daily_truth  # not 2x (once per category)
    bt = result.backtests.set_index("model")
    assert result.history["total"]["y"].sum() == lines["order_id"].nunique()
    assert bt.loc["prophet", "mae"] < 0.3 * daily_truth
