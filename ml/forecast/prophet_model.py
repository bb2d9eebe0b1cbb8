"""Prophet per series: holidays and retail events, the fit, residual-bootstrap intervals,
components, and the fallbacks when history is too short."""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.baseline import future_dates, seasonal_naive
from ml.forecast.params import AUTO, SEASON, AsOf, ForecastParams
from ml.forecast.series import SeriesForecast, series_key_parts
from ml.forecast.stan import fast_stan_json

# Prophet logs an ERROR when it is imported without plotly ("Interactive plots will not
# work"); we draw with matplotlib and do not ship plotly, so that line only alarms users.
logging.getLogger("prophet.plot").addFilter(lambda record: "plotly" not in record.getMessage())


def _stable_seed(seed: int, *parts: object) -> int:
    text = "|".join(str(p) for p in (seed, *parts))
    return zlib.crc32(text.encode()) % (2**32 - 1)


def country_for(series_key: str, params: ForecastParams) -> str | None:
    """The holiday calendar of a series: its region's (if mapped), else country_holidays.

    An unresolved "auto" (no customer countries to derive it from) means no calendar.
    """
    region = series_key_parts(series_key).get("region")
    if region is not None and region in params.region_holidays:
        country = params.region_holidays[region]
    else:
        country = params.country_holidays
    return None if country == AUTO else country


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    # Lazy (Prophet is heavy); imported first because its import resets the logger level.
    import prophet  # noqa: F401

    loggers = [logging.getLogger(name) for name in ("cmdstanpy", "prophet")]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    logging.getLogger("cmdstanpy").disabled = True
    try:
        yield
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled


def retail_events(first_year: int, last_year: int) -> pd.DataFrame:
    """Prophet holidays frame of retail events for the given years (inclusive)."""
    rows = []
    for year in range(first_year, last_year + 1):
        nov1 = date(year, 11, 1)
        thanksgiving = nov1 + pd.Timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        rows += [
            ("black_friday", thanksgiving + pd.Timedelta(days=1), -7, 3),
            ("christmas_eve", date(year, 12, 24), 0, 0),
            ("boxing_day", date(year, 12, 26), 0, 0),
            ("new_years_eve", date(year, 12, 31), 0, 0),
        ]
    frame = pd.DataFrame(rows, columns=["holiday", "ds", "lower_window", "upper_window"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


def _fit_prophet(
    history: pd.DataFrame, series_key: str, params: ForecastParams, horizon_days: int
) -> tuple[Any, pd.DataFrame]:
    """A Prophet model fitted on the history (in the fit scale), and that training frame."""
    from prophet import Prophet  # lazy: heavy, only a fit needs it

    span_days = (history["ds"].iloc[-1] - history["ds"].iloc[0]).days + 1
    last = history["ds"].iloc[-1]
    events = (
        retail_events(history["ds"].iloc[0].year - 1, (last + pd.Timedelta(days=horizon_days)).year)
        if params.retail_events
        else None
    )
    model = Prophet(
        growth="linear",
        holidays=events,
        yearly_seasonality=(
            params.yearly_fourier_order if span_days >= params.yearly_min_days else False
        ),
        weekly_seasonality=True,
        daily_seasonality=False,
        seasonality_mode=params.seasonality_mode,
        changepoint_prior_scale=params.changepoint_prior_scale,
        interval_width=params.interval_width,
        uncertainty_samples=params.uncertainty_samples,
    )
    country = country_for(series_key, params)
    if country:
        model.add_country_holidays(country_name=country)
    fast_stan_json(model)
    seed = _stable_seed(params.seed, series_key, history["ds"].iloc[-1].date())
    train = history[["ds", "y"]]
    if params.transform == "log1p":
        train = train.assign(y=np.log1p(train["y"]))
    model.fit(train, seed=seed)
    return model, train


def _predict_prophet(
    model: Any,
    train: pd.DataFrame,
    series_key: str,
    params: ForecastParams,
    last: pd.Timestamp,
    horizon_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forecast after `last` (original scale) and the point prediction over train + it.

    Seeded from the series and its training end, so a stored model predicts what it
    predicted when it was fitted.
    """
    future = pd.DataFrame({"ds": future_dates(last, horizon_days)})
    np.random.seed(_stable_seed(params.seed, series_key, train["ds"].iloc[-1].date()))
    # One point prediction over history + horizon serves residuals, forecast and components.
    point = _point_predict(model, pd.concat([train[["ds"]], future], ignore_index=True))
    if params.interval_method == "prophet":
        predicted = model.predict(future)
        values = {c: predicted[c].to_numpy() for c in ("yhat", "yhat_lower", "yhat_upper")}
    else:
        values = _residual_bootstrap(model, train, future, point, params)
    frame = pd.DataFrame({"ds": future["ds"]})
    for col, vals in values.items():
        frame[col] = np.expm1(vals) if params.transform == "log1p" else vals
    return frame, point


def _point_predict(model: Any, dates: pd.DataFrame) -> pd.DataFrame:
    samples = model.uncertainty_samples
    model.uncertainty_samples = 0
    try:
        return model.predict(dates)
    finally:
        model.uncertainty_samples = samples


def _residual_bootstrap(
    model: Any,
    train: pd.DataFrame,
    future: pd.DataFrame,
    point_all: pd.DataFrame,
    params: ForecastParams,
) -> dict[str, np.ndarray]:
    """Point forecast plus quantiles of (Prophet trend draws + resampled in-sample residuals)."""
    n_train = len(train)
    resid = train["y"].to_numpy() - point_all["yhat"].to_numpy()[:n_train]
    # In-sample residuals understate out-of-sample noise: inflate by sqrt(n / (n - p)).
    n_params = model.train_component_cols.shape[0] + len(model.changepoints) + 2
    resid = resid * np.sqrt(len(resid) / max(len(resid) - n_params, 1))
    point = point_all.iloc[n_train:]
    yhat = point["yhat"].to_numpy()
    trend_draws = model.predictive_samples(future)["trend"]  # (days, samples), fit scale
    trend_dev = trend_draws - point["trend"].to_numpy()[:, None]
    trend_dev *= 1.0 + point["multiplicative_terms"].to_numpy()[:, None]
    noise = np.random.choice(resid, size=trend_dev.shape, replace=True)
    draws = yhat[:, None] + trend_dev + noise
    tail = 100 * (1 - params.interval_width) / 2
    lower, upper = np.percentile(draws, [tail, 100 - tail], axis=1)
    return {"yhat": yhat, "yhat_lower": lower, "yhat_upper": upper}


def _components(parts: pd.DataFrame, history: pd.DataFrame, transform: str) -> pd.DataFrame:
    cols = [c for c in ("trend", "weekly", "yearly", "holidays", "yhat") if c in parts.columns]
    out = parts[["ds", *cols]].copy()
    if transform == "log1p":
        out["yhat"] = np.expm1(out["yhat"])
    out["y"] = out["ds"].map(dict(zip(history["ds"], history["y"], strict=True)))
    return out


def forecast_series(
    history: pd.DataFrame,
    params: ForecastParams,
    series_key: str = "total",
    horizon_days: int | None = None,
    start: AsOf = None,
    with_components: bool = False,
    keep_model: bool = False,
) -> SeriesForecast:
    """Forecast one series with Prophet, or a flagged fallback when history is too short.

    keep_model: the Prophet fit travels along as its JSON (for the model registry)."""
    horizon = horizon_days or params.horizon_days
    history = history.sort_values("ds").reset_index(drop=True)
    n_days = len(history)
    if n_days == 0:
        method, reason = "zero", "no non-zero history before the cutoff"
    elif n_days < SEASON:
        method = "mean"
        reason = f"{n_days} days of history < {SEASON}: flat mean of what there is"
    elif n_days < params.min_history_days:
        method = "seasonal_naive"
        reason = f"{n_days} days of history < min_history_days={params.min_history_days}"
    elif history["y"].nunique() == 1:
        method, reason = "seasonal_naive", "constant history"
    else:
        method, reason = "prophet", None
    if method != "prophet":
        frame = seasonal_naive(history, horizon, params.interval_width, start=start)
        return SeriesForecast(series_key, method, reason, frame)
    with _quiet_logs():
        model, train = _fit_prophet(history, series_key, params, horizon)
        stored = None
        if keep_model:
            from prophet.serialize import model_to_json

            stored = model_to_json(model)
    return _prophet_forecast(model, train, history, series_key, params, horizon, with_components,
                             stored)  # fmt: skip


def predict_series(
    model_json: str,
    history: pd.DataFrame,
    params: ForecastParams,
    series_key: str,
    last: pd.Timestamp,
    with_components: bool = False,
) -> SeriesForecast:
    """The forecast after `last` of a stored Prophet fit (prophet.serialize JSON), no refit."""
    from prophet.serialize import model_from_json

    with _quiet_logs():
        model = model_from_json(model_json)
    train = model.history[["ds", "y"]].reset_index(drop=True)
    history = history.sort_values("ds").reset_index(drop=True)
    history = history[history["ds"] <= train["ds"].iloc[-1]]
    return _prophet_forecast(
        model, train, history, series_key, params, params.horizon_days, with_components,
        model_json, last,
    )  # fmt: skip


def _prophet_forecast(
    model: Any,
    train: pd.DataFrame,
    history: pd.DataFrame,
    series_key: str,
    params: ForecastParams,
    horizon: int,
    with_components: bool,
    model_json: str | None,
    last: pd.Timestamp | None = None,
) -> SeriesForecast:
    """A fitted model's forecast after `last` (default: its training end), clipped at 0."""
    last = train["ds"].iloc[-1] if last is None else last
    with _quiet_logs():
        frame, point = _predict_prophet(model, train, series_key, params, last, horizon)
        components = _components(point, history, params.transform) if with_components else None
    # Counts and revenue are never negative; keep lower <= yhat <= upper after clipping.
    yhat = frame["yhat"].clip(lower=0.0)
    frame["yhat"] = yhat
    frame["yhat_lower"] = np.minimum(frame["yhat_lower"].clip(lower=0.0), yhat)
    frame["yhat_upper"] = np.maximum(frame["yhat_upper"].clip(lower=0.0), yhat)
    if components is not None:
        components["yhat"] = components["yhat"].clip(lower=0.0)
    return SeriesForecast(
        series_key, "prophet", None, frame, components, component_scale=params.transform,
        model_json=model_json,
    )  # fmt: skip
