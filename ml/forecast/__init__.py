"""Demand forecasting: Prophet per series, a seasonal-naive fallback and rolling-origin backtests.

Input is the series-level mart ``marts.daily_demand`` as a DataFrame (demand_date, category,
store_region, orders, units, revenue; zero-filled). Series are built per configured level
(total, category, region, category x region), fitted in parallel worker processes, and
returned as DataFrames shaped like ``ml.demand_forecasts``, ``ml.forecast_backtests`` and
``ml.forecast_flags`` plus the run's ``ModelRun``. No Dagster, no file paths, no figures
(those are ml.plots.forecast).

Prediction intervals are calibrated out of sample (``interval_calibration="rolling_origin"``,
see :func:`calibrate_intervals`): Prophet's in-sample uncertainty (trend draws plus
bootstrapped in-sample residuals) is rescaled, per series, by a split-conformal factor
computed from that series' forecast errors at earlier rolling origins (the backtest fits,
so calibration costs no extra fits), using only data up to each forecast's own origin.

Each level forecasts what its name says: for order counts the total and region series are
distinct orders (marts.daily_orders), not sums over categories. Holidays follow each
region's country (ml.forecast.holidays). Prophet is fitted where the shape of a series pays
for it, within a cap on fits; the sparse tail forecasts as shares of the parent's forecast
(ml.forecast.selection); each choice is recorded per series in ml.forecast_flags.

Modules: params, series, holidays, selection, baseline (seasonal naive), prophet_model
(+ stan, a cmdstanpy patch), calibration, pool (sequential or process-pool execution),
backtest, run.
"""

from ml.forecast.backtest import backtest, backtest_cutoffs, score_forecast
from ml.forecast.baseline import seasonal_naive
from ml.forecast.calibration import (
    calibrate_intervals,
    conformal_factor,
    conformity_scores,
    scale_interval,
)
from ml.forecast.holidays import HolidayPlan, resolve_holidays
from ml.forecast.params import (
    BACKTEST_COLUMNS,
    FLAG_COLUMNS,
    FORECAST_COLUMNS,
    LEVEL_COLUMNS,
    METRICS,
    ForecastParams,
)
from ml.forecast.pool import forecast_all
from ml.forecast.prophet_model import forecast_series, retail_events
from ml.forecast.run import MODEL_NAME, ForecastResult, model_version, run_forecasting
from ml.forecast.selection import Choice, choose_methods, forecast_tail, share_forecast
from ml.forecast.series import SeriesForecast, build_series, series_key_parts, series_level

__all__ = [
    "BACKTEST_COLUMNS",
    "Choice",
    "HolidayPlan",
    "FLAG_COLUMNS",
    "FORECAST_COLUMNS",
    "LEVEL_COLUMNS",
    "METRICS",
    "MODEL_NAME",
    "ForecastParams",
    "ForecastResult",
    "SeriesForecast",
    "backtest",
    "backtest_cutoffs",
    "build_series",
    "calibrate_intervals",
    "choose_methods",
    "conformal_factor",
    "conformity_scores",
    "forecast_all",
    "forecast_series",
    "forecast_tail",
    "model_version",
    "resolve_holidays",
    "retail_events",
    "run_forecasting",
    "scale_interval",
    "score_forecast",
    "seasonal_naive",
    "series_key_parts",
    "share_forecast",
    "series_level",
]
