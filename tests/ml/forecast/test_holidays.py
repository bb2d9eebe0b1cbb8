"""#14.4: holidays follow each region's country, visible per series and in model_runs."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.forecast import ForecastParams, resolve_holidays, run_forecasting
from ml.forecast.prophet_model import _fit_prophet, country_for
from tests.ml.forecast.shops import basket_orders, daily_demand, daily_orders

REGIONS = {
    "dach": (40.0, {"DE": 0.8, "AT": 0.2}),
    "usa": (30.0, {"US": 1.0}),
    "mystery": (10.0, {"unknown": 1.0}),
}


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return basket_orders(REGIONS, days=400, basket_categories=(1, 2))


def test_regions_default_to_their_most_common_customer_country(lines) -> None:
    plan = resolve_holidays(daily_orders(lines), ["dach", "usa", "mystery"])
    assert plan.region_countries == {"dach": "DE", "usa": "US", "mystery": None}
    assert plan.shop_country is None  # DE has ~40% of the orders: no calendar at the top
    assert "< 50%" in plan.shop_source
    assert plan.country_for("category=dairy|region=dach") == "DE"
    assert plan.country_for("category=dairy") is None


def test_settings_win_and_none_turns_holidays_off(lines) -> None:
    plan = resolve_holidays(
        daily_orders(lines), ["dach", "usa"], "gb", {"usa": "none", "dach": "AT"}
    )
    assert plan.shop_country == "GB" and plan.shop_source == "setting"
    assert plan.region_countries == {"dach": "AT", "usa": None}
    single = resolve_holidays(daily_orders(lines[lines["store_region"] == "dach"]), ["dach"])
    assert single.shop_country == "DE"  # 80% of the orders
    assert resolve_holidays(None, ["dach"]).region_countries == {"dach": None}


def test_dach_forecast_gets_german_holidays_not_july_4th(lines) -> None:
    params = ForecastParams(
        levels=("total", "region"),
        horizon_days=14,
        backtest_cutoffs=0,
        uncertainty_samples=20,
        top_n_plots=0,
        n_jobs=1,
    )
    result = run_forecasting(daily_demand(lines), params, order_counts=daily_orders(lines))
    flags = result.flags.set_index("series_key")
    assert flags.loc["region=dach", "holiday_country"] == "DE"
    assert flags.loc["region=usa", "holiday_country"] == "US"
    assert pd.isna(flags.loc["region=mystery", "holiday_country"])
    holidays = result.run.params["holidays_by_level"]
    assert holidays["region"]["dach"]["country"] == "DE"
    assert holidays["total"]["country"] is None
    assert result.run.params["region_holidays"]["dach"] == "DE"

    resolved = ForecastParams(
        **{**params.__dict__, "region_holidays": result.run.params["region_holidays"]}
    )
    assert country_for("region=dach", resolved) == "DE"
    history = result.history["region=dach"]
    model, _ = _fit_prophet(history, "region=dach", resolved, 14)
    names = set(model.train_holiday_names)
    assert "German Unity Day" in names
    assert not any("Independence Day" in n or "Thanksgiving" in n for n in names)
