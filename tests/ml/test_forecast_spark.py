"""The forecast fan-out on Spark (groupBy(task).applyInPandas, ml.forecast.spark_pool) gives
the same forecasts, backtests and flags as the local process, fit for fit."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.forecast import ForecastParams
from segmint import spark as engine
from tests.ml.test_forecast import PARAMS as LOCAL_PARAMS
from tests.ml.test_forecast import forecast, make_daily_demand

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(engine.java_missing() is not None, reason=str(engine.java_missing())),
    pytest.mark.timeout(300),
]
pytest.importorskip("pyspark", reason="pyspark is not installed (segmint[spark])")

# The forecast tests' parameters on fewer series (total and regions: 3 series, 6 fits).
PARAMS = ForecastParams(**{**LOCAL_PARAMS.__dict__, "levels": ("total", "region")})


def test_spark_fan_out_gives_the_local_forecasts_fit_for_fit(spark) -> None:
    demand = make_daily_demand(days=300)
    local = forecast(demand, PARAMS)
    fanned = forecast(demand, PARAMS, spark=spark)

    assert fanned.run.metrics["n_fits"] == local.run.metrics["n_fits"] >= 3
    assert fanned.run.metrics["workers"] == 2  # the session's two cores
    prophet = local.forecasts["method"] == "prophet"
    assert prophet.any(), "the comparison must include Prophet fits, not only fallbacks"
    pd.testing.assert_frame_equal(local.forecasts, fanned.forecasts)
    pd.testing.assert_frame_equal(local.backtests, fanned.backtests)
    pd.testing.assert_frame_equal(local.flags, fanned.flags)
