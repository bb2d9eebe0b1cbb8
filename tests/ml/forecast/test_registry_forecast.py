"""The forecast under the model registry: a run with a stored champion predicts from its
Prophet fits (prophet.serialize JSON) without fitting or backtesting, and gives the forecast
the fresh fit gave; a later as-of inside the cadence forecasts from the new end."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from ml.registry import ModelStore, Policy
from tests.ml.test_forecast import END, forecast, make_daily_demand
from tests.ml.test_forecast import PARAMS as BASE

# the forecast tests' parameters, one series and a short horizon: four runs stay quick
PARAMS = replace(
    BASE, levels=("total",), horizon_days=7, backtest_horizon_days=7, uncertainty_samples=20
)


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    return make_daily_demand(days=400)


def test_a_stored_forecast_champion_predicts_without_refitting(demand, tmp_path) -> None:
    store = ModelStore(tmp_path)
    early = (END - pd.Timedelta(days=3)).date()
    fit_progress: list[int] = []
    first = forecast(
        demand,
        PARAMS,
        as_of=early,
        registry=(store, Policy()),
        progress=lambda d, t: fit_progress.append(t),
    )
    assert first.run.decision["decision"] == "first_run"
    assert list((tmp_path / "demand_forecast" / first.run.model_version / "prophet").glob("*.json"))
    again = forecast(demand, PARAMS, as_of=early, registry=(store, Policy()))
    assert again.run.decision["decision"] == "scored_with_champion"
    assert again.run.metrics["n_fits"] == first.run.metrics["n_fits"]  # the champion's record
    pd.testing.assert_frame_equal(first.forecasts, again.forecasts)
    pd.testing.assert_frame_equal(first.backtests, again.backtests)  # not re-run
    assert again.fitted["total"].components is not None  # the plotted series

    later = forecast(demand, PARAMS, registry=(store, Policy()))  # 3 days on: not due
    # predicted from the stored Prophet fit: each day's forecast is what the fit said then
    same_days = first.forecasts.merge(later.forecasts, on=["series_key", "ds"])
    assert len(same_days) == PARAMS.horizon_days - 3
    assert same_days["yhat_x"].to_numpy() == pytest.approx(same_days["yhat_y"].to_numpy())
    assert later.run.decision["decision"] == "scored_with_champion"
    assert later.run.model_version == first.run.model_version
    assert later.forecasts["ds"].min() == (END + pd.Timedelta(days=1)).date()
    prophet = later.flags.loc[later.flags["method"] == "prophet", "series_key"]
    assert len(prophet) and (later.forecasts["yhat"] >= 0).all()

    refit = forecast(demand, PARAMS, registry=(store, Policy(retrain=True)))
    assert refit.run.decision["decision"] == "promoted"
    assert refit.run.decision["champion_metric"] is None  # other backtest origins
    assert refit.forecasts["ds"].min() == (END + pd.Timedelta(days=1)).date()
