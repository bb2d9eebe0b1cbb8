"""Demand forecasting: Prophet per series, a seasonal-naive fallback and rolling-origin backtests.

Input is the series-level mart ``marts.daily_demand`` as a DataFrame (demand_date, category,
store_region, orders, units, revenue; zero-filled). Series are built per configured level
(total, category, region, category x region), fitted in parallel worker processes, and
returned as DataFrames shaped like ``ml.demand_forecasts`` and ``ml.forecast_backtests`` plus
a summary dict for ``ml.model_runs`` and matplotlib figures. No Dagster, no file paths.

Prediction intervals are calibrated out of sample (``interval_calibration="rolling_origin"``,
see :func:`calibrate_intervals`): Prophet's in-sample uncertainty (trend draws plus
bootstrapped in-sample residuals) is rescaled, per series, by a split-conformal factor
computed from that series' forecast errors at earlier rolling origins (the backtest fits,
so calibration costs no extra fits), using only data up to each forecast's own origin.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

LEVEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "total": (),
    "category": ("category",),
    "region": ("store_region",),
    "category_region": ("category", "store_region"),
}
KEY_NAMES: dict[str, str] = {"category": "category", "store_region": "region"}
METRICS: tuple[str, ...] = ("orders", "units", "revenue")
# Prophet logs an ERROR when it is imported without plotly ("Interactive plots will not
# work"); we draw with matplotlib and do not ship plotly, so that line only alarms users.
logging.getLogger("prophet.plot").addFilter(lambda record: "plotly" not in record.getMessage())

SEASON = 7
UNKNOWN = "unknown"

FORECAST_COLUMNS: list[str] = [
    "series_key",
    "level",
    "ds",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "model_version",
    "metric",
    "method",
    "fallback_reason",
]
BACKTEST_COLUMNS: list[str] = [
    "series_key",
    "level",
    "metric",
    "model",
    "cutoff",
    "horizon_days",
    "n_obs",
    "mae",
    "mase",
    "smape",
    "coverage",
    "model_version",
]
FLAG_COLUMNS: list[str] = [
    "series_key",
    "level",
    "method",
    "reason",
    "history_days",
    "first_date",
    "last_date",
]

Progress = Callable[[int, int], None]
AsOf = date | datetime | pd.Timestamp | str | None


@dataclass(frozen=True)
class ForecastParams:
    """Hyper-parameters of the demand forecast (all series, all levels)."""

    levels: tuple[str, ...] = ("total", "category", "region", "category_region")
    metric: str = "orders"
    horizon_days: int = 90
    interval_width: float = 0.8
    # Draws for the interval quantiles. Prophet issue #479: sampling dominated predict; here
    # only the horizon is sampled, and bench_forecast.py's sweep shows 200 draws cost no more
    # than 50 while 1000 over history + horizon cost 3x (coverage within MC noise of 1000).
    uncertainty_samples: int = 200
    min_history_days: int = 60
    yearly_min_days: int = 365
    # Fit on log1p(y): seasonal effects act multiplicatively on counts and revenue, the
    # noise grows with the level, and back-transformed forecasts cannot go negative.
    transform: str = "log1p"
    seasonality_mode: str = "additive"
    yearly_fourier_order: int = 10
    changepoint_prior_scale: float = 0.05
    country_holidays: str | None = "US"
    # Retail events outside country calendars: Black Friday week to Cyber Monday, Christmas
    # Eve, Boxing Day and New Year's Eve (moving dates, so yearly seasonality misses them).
    retail_events: bool = True
    # Intervals: "residual_bootstrap" = Prophet's trend-uncertainty draws plus resampled
    # in-sample residuals (robust to the heavy tails promotions put in retail demand);
    # "prophet" = Prophet's own Gaussian-noise intervals.
    interval_method: str = "residual_bootstrap"
    # "rolling_origin": rescale each Prophet interval by a split-conformal factor from the
    # series' own out-of-sample errors at earlier backtest origins (calibrate_intervals);
    # "none": keep the model's intervals as they are.
    interval_calibration: str = "rolling_origin"
    region_holidays: Mapping[str, str] = field(default_factory=dict)
    backtest_cutoffs: int = 4
    backtest_horizon_days: int | None = None
    backtest_window_days: int = 365
    top_n_plots: int = 4
    seed: int = 42
    n_jobs: int | None = None

    def __post_init__(self) -> None:
        """Reject parameter values the forecast cannot honour."""
        unknown = [lv for lv in self.levels if lv not in LEVEL_COLUMNS]
        if unknown or not self.levels:
            raise ValueError(f"levels must be a non-empty subset of {list(LEVEL_COLUMNS)}")
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.horizon_days < 1 or (self.backtest_horizon_days or 1) < 1:
            raise ValueError("horizon_days and backtest_horizon_days must be >= 1")
        if not 0 < self.interval_width < 1:
            raise ValueError("interval_width must be in (0, 1)")
        if self.uncertainty_samples < 1:
            raise ValueError("uncertainty_samples must be >= 1 (intervals are required)")
        if self.min_history_days < 2 * SEASON:
            raise ValueError(f"min_history_days must be >= {2 * SEASON}")
        if self.seasonality_mode not in ("additive", "multiplicative"):
            raise ValueError("seasonality_mode must be 'additive' or 'multiplicative'")
        if self.interval_method not in ("residual_bootstrap", "prophet"):
            raise ValueError("interval_method must be 'residual_bootstrap' or 'prophet'")
        if self.interval_calibration not in ("rolling_origin", "none"):
            raise ValueError("interval_calibration must be 'rolling_origin' or 'none'")
        if self.transform not in ("none", "log1p"):
            raise ValueError("transform must be 'none' or 'log1p'")
        if self.yearly_fourier_order < 1:
            raise ValueError("yearly_fourier_order must be >= 1")
        if self.backtest_cutoffs < 0 or self.top_n_plots < 0:
            raise ValueError("backtest_cutoffs and top_n_plots must be >= 0")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise ValueError("n_jobs must be >= 1 (or None for all cores)")
        for country in {self.country_holidays, *self.region_holidays.values()} - {None}:
            _check_country(country)

    @property
    def eval_horizon_days(self) -> int:
        """Days ahead scored at each backtest cutoff."""
        return self.backtest_horizon_days or self.horizon_days

    @property
    def workers(self) -> int:
        """Worker processes to use."""
        return self.n_jobs or os.cpu_count() or 1

    def to_json_dict(self) -> dict[str, Any]:
        """Parameters as a JSON-serialisable dict (for ml.model_runs)."""
        out = asdict(self)
        out["levels"] = list(self.levels)
        out["region_holidays"] = dict(self.region_holidays)
        return out


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


@dataclass
class ForecastResult:
    """Everything one forecasting run writes back (tables, run summary, figures)."""

    forecasts: pd.DataFrame  # FORECAST_COLUMNS -> ml.demand_forecasts
    backtests: pd.DataFrame  # BACKTEST_COLUMNS -> ml.forecast_backtests
    summary: dict[str, Any]  # -> ml.model_runs
    flags: pd.DataFrame  # FLAG_COLUMNS: one row per series
    figures: dict[str, Any] = field(default_factory=dict)  # name -> matplotlib Figure


# --------------------------------------------------------------------------- series


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


def _to_timestamp(value: AsOf) -> pd.Timestamp | None:
    if value is None:
        return None
    return pd.Timestamp(value).normalize()


def _prepare(daily_demand: pd.DataFrame, metric: str, as_of: AsOf) -> pd.DataFrame:
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
    cut = _to_timestamp(as_of)
    if cut is not None:
        df = df[df["ds"] <= cut]
    return df


def _trim_leading_zeros(values: pd.Series) -> pd.DataFrame:
    nonzero = np.flatnonzero(values.to_numpy() != 0)
    kept = values.iloc[nonzero[0] :] if nonzero.size else values.iloc[:0]
    return pd.DataFrame({"ds": kept.index, "y": kept.to_numpy(dtype=float)})


def build_series(
    daily_demand: pd.DataFrame,
    levels: Sequence[str] = ("total", "category", "region", "category_region"),
    metric: str = "orders",
    as_of: AsOf = None,
) -> dict[str, pd.DataFrame]:
    """Daily series (ds, y) per series key for each level, cut at as_of, from first demand on."""
    df = _prepare(daily_demand, metric, as_of)
    if df.empty:
        return {"total": pd.DataFrame({"ds": pd.to_datetime([]), "y": []})} if levels else {}
    days = pd.date_range(df["ds"].min(), df["ds"].max(), freq="D")
    out: dict[str, pd.DataFrame] = {}
    for level in levels:
        cols = list(LEVEL_COLUMNS[level])
        if not cols:
            out["total"] = _trim_leading_zeros(
                df.groupby("ds")["y"].sum().reindex(days, fill_value=0.0)
            )
            continue
        for values, part in df.groupby(cols, sort=True):
            values = values if isinstance(values, tuple) else (values,)
            key = "|".join(f"{KEY_NAMES[c]}={v}" for c, v in zip(cols, values, strict=True))
            daily = part.groupby("ds")["y"].sum().reindex(days, fill_value=0.0)
            out[key] = _trim_leading_zeros(daily)
    return out


# --------------------------------------------------------------------------- models


def _check_country(country: str) -> None:
    from prophet.make_holidays import get_country_holidays_class

    try:
        get_country_holidays_class(country)
    except AttributeError as exc:
        raise ValueError(f"no built-in holiday calendar for country {country!r}") from exc


def _stable_seed(seed: int, *parts: object) -> int:
    text = "|".join(str(p) for p in (seed, *parts))
    return zlib.crc32(text.encode()) % (2**32 - 1)


def _future_dates(last: pd.Timestamp, horizon_days: int) -> pd.DatetimeIndex:
    return pd.date_range(last + pd.Timedelta(days=1), periods=horizon_days, freq="D")


def seasonal_naive(
    history: pd.DataFrame,
    horizon_days: int,
    interval_width: float = 0.8,
    start: AsOf = None,
) -> pd.DataFrame:
    """Same-weekday-last-week forecast with normal intervals widening per season ahead."""
    y = history["y"].to_numpy(dtype=float)
    last = pd.Timestamp(history["ds"].iloc[-1]) if len(y) else _to_timestamp(start)
    if last is None:
        raise ValueError("empty history needs a start date")
    ds = _future_dates(last, horizon_days)
    steps = np.arange(horizon_days)
    if len(y) >= SEASON:
        yhat = y[-SEASON:][steps % SEASON]
        resid = y[SEASON:] - y[:-SEASON]
        sigma = float(np.std(resid, ddof=1)) if resid.size > 1 else 0.0
        sd = sigma * np.sqrt(steps // SEASON + 1)
    else:
        level = float(y.mean()) if len(y) else 0.0
        yhat = np.full(horizon_days, level)
        sd = np.full(horizon_days, float(np.std(y, ddof=1)) if len(y) > 1 else 0.0)
    z = NormalDist().inv_cdf(0.5 + interval_width / 2)
    return pd.DataFrame(
        {
            "ds": ds,
            "yhat": yhat,
            "yhat_lower": np.maximum(yhat - z * sd, 0.0),
            "yhat_upper": yhat + z * sd,
        }
    )


def _country_for(series_key: str, params: ForecastParams) -> str | None:
    region = series_key_parts(series_key).get("region")
    if region is not None and region in params.region_holidays:
        return params.region_holidays[region]
    return params.country_holidays


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    import prophet  # noqa: F401  (its import resets the 'prophet' logger level)

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


@contextlib.contextmanager
def _kept_numpy_rng() -> Iterator[None]:
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


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
) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    from prophet import Prophet

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
    country = _country_for(series_key, params)
    if country:
        model.add_country_holidays(country_name=country)
    _fast_stan_json(model)
    seed = _stable_seed(params.seed, series_key, history["ds"].iloc[-1].date())
    train = history[["ds", "y"]]
    if params.transform == "log1p":
        train = train.assign(y=np.log1p(train["y"]))
    model.fit(train, seed=seed)
    future = pd.DataFrame({"ds": _future_dates(last, horizon_days)})
    np.random.seed(seed)
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
    return frame, model, point


def _fast_stan_json(model: Any) -> None:
    """Hand CmdStan its data as a file written by the C JSON encoder (same bytes, faster).

    cmdstanpy writes the data dict through stanio, which (without ujson) walks every value
    in Python and streams it through the pure-Python JSON encoder: for a two-year series
    with ~100 seasonal/holiday columns that was 10-15% of a fit's CPU seconds. Prophet has
    already turned the data into plain lists and numbers, so ``json.dumps`` (C encoder)
    writes the byte-identical file in well under half the time; fits are unchanged.
    """
    cmdstan = getattr(getattr(model, "stan_backend", None), "model", None)
    optimize = getattr(cmdstan, "optimize", None)
    if optimize is None:
        return

    def fast_optimize(*args: Any, data: Any = None, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return optimize(*args, data=data, **kwargs)
        try:
            text = json.dumps(data, allow_nan=True)
        except TypeError:  # something numpy-typed: let stanio handle it
            return optimize(*args, data=data, **kwargs)
        fd, path = tempfile.mkstemp(prefix="segmint_stan_", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return optimize(*args, data=path, **kwargs)
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)

    cmdstan.optimize = fast_optimize


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
) -> SeriesForecast:
    """Forecast one series with Prophet, or a flagged fallback when history is too short."""
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
        frame, _, point = _fit_prophet(history, series_key, params, horizon)
        components = _components(point, history, params.transform) if with_components else None
    # Counts and revenue are never negative; keep lower <= yhat <= upper after clipping.
    yhat = frame["yhat"].clip(lower=0.0)
    frame["yhat"] = yhat
    frame["yhat_lower"] = np.minimum(frame["yhat_lower"].clip(lower=0.0), yhat)
    frame["yhat_upper"] = np.maximum(frame["yhat_upper"].clip(lower=0.0), yhat)
    if components is not None:
        components["yhat"] = components["yhat"].clip(lower=0.0)
    return SeriesForecast(
        series_key, method, reason, frame, components, component_scale=params.transform
    )


# --------------------------------------------------------------------------- metrics


def score_forecast(
    actual: np.ndarray,
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    train_y: np.ndarray,
) -> dict[str, float]:
    """MAE, MASE (scaled by in-sample same-weekday-last-week MAE), sMAPE (%) and coverage."""
    actual, yhat = np.asarray(actual, float), np.asarray(yhat, float)
    train_y = np.asarray(train_y, float)
    err = np.abs(actual - yhat)
    mae = float(err.mean())
    scale = (
        float(np.abs(train_y[SEASON:] - train_y[:-SEASON]).mean())
        if train_y.size > SEASON
        else math.nan
    )
    denom = np.abs(actual) + np.abs(yhat)
    ratio = np.divide(2 * err, denom, out=np.zeros_like(err), where=denom > 0)
    inside = (actual >= np.asarray(lower, float)) & (actual <= np.asarray(upper, float))
    return {
        "mae": mae,
        "mase": mae / scale if scale and scale > 0 else math.nan,
        "smape": float(100 * ratio.mean()),
        "coverage": float(inside.mean()),
    }


def backtest_cutoffs(end: AsOf, params: ForecastParams) -> list[pd.Timestamp]:
    """Rolling origins spread over the last backtest_window_days before end, latest first."""
    last = _to_timestamp(end)
    if last is None or params.backtest_cutoffs == 0:
        return []
    horizon = params.eval_horizon_days
    n = params.backtest_cutoffs
    step = max(SEASON, (params.backtest_window_days - horizon) // (n - 1)) if n > 1 else 0
    return [last - pd.Timedelta(days=horizon + i * step) for i in range(n)]


# --------------------------------------------------------------------------- calibration


def _to_fit_scale(values: np.ndarray, transform: str) -> np.ndarray:
    values = np.asarray(values, float)
    return np.log1p(np.maximum(values, 0.0)) if transform == "log1p" else values


def _from_fit_scale(values: np.ndarray, transform: str) -> np.ndarray:
    return np.expm1(values) if transform == "log1p" else values


def conformity_scores(
    forecast: pd.DataFrame, actual: pd.DataFrame, transform: str = "none"
) -> np.ndarray:
    """Out-of-sample errors in units of the interval's half-width on the error's side.

    In the model's fit scale (log1p or none): ``|y - yhat| / (upper - yhat)`` when the
    actual is above the point forecast, ``/ (yhat - lower)`` when below. A score <= 1 means
    the actual fell inside the interval; an interval scaled by ``q`` covers scores <= q.
    """
    joined = actual[["ds", "y"]].merge(forecast, on="ds", how="inner")
    y, yhat, lower, upper = (
        _to_fit_scale(joined[c].to_numpy(), transform)
        for c in ("y", "yhat", "yhat_lower", "yhat_upper")
    )
    err = y - yhat
    half = np.where(err >= 0, upper - yhat, yhat - lower)
    scores = np.divide(np.abs(err), half, out=np.full_like(err, np.inf), where=half > 0)
    return np.where(err == 0, 0.0, scores)


def conformal_factor(scores: np.ndarray, interval_width: float) -> float | None:
    """Split-conformal quantile: the ceil((n + 1) * width)-th smallest score (None if n small).

    Under exchangeability an interval scaled by this factor covers a new point with
    probability >= width; it needs n >= width / (1 - width) scores (4 for 80%).
    """
    scores = np.sort(np.asarray(scores, float))
    k = math.ceil((len(scores) + 1) * interval_width - 1e-9)
    if k > len(scores) or len(scores) == 0:
        return None
    return float(scores[k - 1])


def scale_interval(forecast: pd.DataFrame, factor: float, transform: str = "none") -> pd.DataFrame:
    """The forecast with both half-widths multiplied by factor in the fit scale (yhat kept)."""
    yhat = _to_fit_scale(forecast["yhat"].to_numpy(), transform)
    lower = _to_fit_scale(forecast["yhat_lower"].to_numpy(), transform)
    upper = _to_fit_scale(forecast["yhat_upper"].to_numpy(), transform)
    out = forecast.copy()
    point = out["yhat"].to_numpy(float)
    new_lower = _from_fit_scale(yhat - factor * (yhat - lower), transform)
    new_upper = _from_fit_scale(yhat + factor * (upper - yhat), transform)
    out["yhat_lower"] = np.minimum(np.maximum(new_lower, 0.0), point)
    out["yhat_upper"] = np.maximum(new_upper, point)
    return out


Fitted = Mapping[tuple[str, pd.Timestamp | None], SeriesForecast]


def calibrate_intervals(
    series: Mapping[str, pd.DataFrame],
    fitted: Fitted,
    cutoffs: Sequence[pd.Timestamp],
    end: pd.Timestamp,
    params: ForecastParams,
) -> dict[tuple[str, pd.Timestamp | None], SeriesForecast]:
    """Rolling-origin split-conformal calibration of the Prophet intervals, per series.

    Prophet's interval (trend-change draws plus bootstrapped in-sample residuals) knows
    nothing of the error that comes from fitting: it is too narrow when seasonality or
    trend are poorly identified and can be too wide when they are not. For the forecast
    made at origin T (a backtest cutoff, or ``end`` for the production forecast) this
    collects the same series' out-of-sample errors from every earlier Prophet backtest
    fit at origin T' whose evaluation window (T', T' + backtest horizon] ends on or before
    T, expresses each as a conformity score (:func:`conformity_scores`: the error over the
    interval half-width on its side, in the fit scale) and multiplies both half-widths of
    the forecast at T by the split-conformal quantile of those scores at
    ``interval_width`` (:func:`conformal_factor`). Widening or narrowing follows the
    evidence: the shape over the horizon (wider further out) is the model's, the scale is
    the out-of-sample one. Nothing after T is read, so backtests stay honest; the
    production forecast uses every backtest window (a year of errors by default) and the
    backtest fits are needed anyway, so calibration costs no extra fit.

    Forecasts with no earlier complete window (the earliest backtest origin, series with
    too short a history, fallbacks) keep the model's interval (``interval_scale`` None).
    The guarantee is marginal, over origins: errors at calm origins can set too narrow a
    factor for a volatile season and vice versa (conformal assumes exchangeable origins).
    """
    horizon = params.eval_horizon_days
    out = dict(fitted)
    for (key, cutoff), result in fitted.items():
        if result.method != "prophet" or key not in series:
            continue
        origin = end if cutoff is None else cutoff
        frame = series[key]
        scores = []
        for earlier in cutoffs:
            window_end = earlier + pd.Timedelta(days=horizon)
            source = fitted.get((key, earlier))
            if window_end > origin or source is None or source.method != "prophet":
                continue
            actual = frame[(frame["ds"] > earlier) & (frame["ds"] <= window_end)]
            scores.append(conformity_scores(source.forecast, actual, params.transform))
        pooled = np.concatenate(scores) if scores else np.empty(0)
        factor = conformal_factor(pooled, params.interval_width)
        if factor is None or not np.isfinite(factor):
            continue
        out[(key, cutoff)] = replace(
            result,
            forecast=scale_interval(result.forecast, factor, params.transform),
            interval_scale=factor,
            calibration_n=len(pooled),
        )
    return out


# --------------------------------------------------------------------------- execution


@dataclass(frozen=True)
class _Task:
    series_key: str
    cutoff: pd.Timestamp | None  # None: the production forecast
    history: pd.DataFrame
    horizon_days: int
    start: pd.Timestamp | None
    with_components: bool


def _run_task(task: _Task, params: ForecastParams) -> tuple[str, pd.Timestamp | None, Any]:
    result = forecast_series(
        task.history,
        params,
        series_key=task.series_key,
        horizon_days=task.horizon_days,
        start=task.start,
        with_components=task.with_components,
    )
    return task.series_key, task.cutoff, result


def _cpu_seconds() -> float:
    """CPU seconds of this process plus its waited-for children (the CmdStan runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _run_chunk(
    chunk: list[_Task], params: ForecastParams
) -> tuple[int, float, float, list[tuple[Any, ...]]]:
    started, cpu = time.monotonic(), _cpu_seconds()
    results = [_run_task(task, params) for task in chunk]
    return os.getpid(), started, _cpu_seconds() - cpu, results


def _init_worker() -> None:
    import prophet  # noqa: F401  (its import resets the 'prophet' logger level)

    logging.getLogger("cmdstanpy").disabled = True
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _mp_context() -> mp.context.BaseContext:
    """Forkserver where available, else spawn."""
    # Workers fork from a clean server that imported Prophet once: no per-worker import
    # cost, and no locks or DuckDB handles inherited from a threaded host such as Dagster.
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["ml.forecast", "prophet", "cmdstanpy"])
    return ctx


def _guided_chunks(tasks: list[_Task], workers: int) -> list[list[_Task]]:
    """Longest histories first, in chunks of ceil(remaining / (4 * workers)) tasks.

    Guided self-scheduling: big chunks while much work is left (few round trips), single
    fits at the end so no worker idles while another finishes a long chunk. A task ships
    one series frame (kilobytes) and costs ~0.1 s of CPU, so round trips are cheap anyway.
    """
    ordered = sorted(tasks, key=lambda t: -len(t.history))
    chunks, i = [], 0
    while i < len(ordered):
        size = max(1, math.ceil((len(ordered) - i) / (4 * workers)))
        chunks.append(ordered[i : i + size])
        i += size
    return chunks


def _execute(
    tasks: list[_Task],
    params: ForecastParams,
    progress: Progress | None,
    stats: dict[str, Any] | None = None,
) -> dict[tuple[str, pd.Timestamp | None], SeriesForecast]:
    """Run the fits, sequentially or in a process pool; fill stats (if given) with timings.

    stats gets wall and CPU seconds (CPU includes the CmdStan child processes, so it does not
    depend on how loaded the machine is), the CPU per worker process, the delay until the
    first worker started fitting (pool start-up), and the parent's own CPU seconds.
    """
    total = len(tasks)
    results: dict[tuple[str, pd.Timestamp | None], SeriesForecast] = {}
    workers = min(params.workers, total)
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    if workers <= 1:
        with _kept_numpy_rng():
            for i, task in enumerate(tasks, start=1):
                key, cutoff, res = _run_task(task, params)
                results[(key, cutoff)] = res
                if progress:
                    progress(i, total)
        if stats is not None:
            cpu = _cpu_seconds() - cpu0
            stats.update(
                workers=1,
                tasks=total,
                wall_seconds=time.perf_counter() - wall0,
                cpu_seconds=cpu,
                worker_cpu_seconds=[cpu],
                startup_seconds=0.0,
                parent_cpu_seconds=cpu,
            )
        return results
    chunks = _guided_chunks(tasks, workers)
    done = 0
    per_worker: dict[int, float] = {}
    first_start = math.inf
    mono0 = time.monotonic()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(), initializer=_init_worker
    ) as pool:
        futures = [pool.submit(_run_chunk, chunk, params) for chunk in chunks]
        for future in as_completed(futures):
            pid, started, cpu, chunk_results = future.result()
            per_worker[pid] = per_worker.get(pid, 0.0) + cpu
            first_start = min(first_start, started)
            for key, cutoff, res in chunk_results:
                results[(key, cutoff)] = res
                done += 1
            if progress:
                progress(done, total)
    if stats is not None:
        parent = _cpu_seconds() - cpu0
        stats.update(
            workers=workers,
            tasks=total,
            wall_seconds=time.perf_counter() - wall0,
            cpu_seconds=parent + sum(per_worker.values()),
            worker_cpu_seconds=sorted(per_worker.values(), reverse=True),
            startup_seconds=max(0.0, first_start - mono0),
            parent_cpu_seconds=parent,
        )
    return results


def forecast_all(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: AsOf = None,
    progress: Progress | None = None,
    with_components: Sequence[str] = (),
    stats: dict[str, Any] | None = None,
) -> dict[str, SeriesForecast]:
    """Forecast every series (in parallel across params.workers processes), keyed like series.

    The forecast step alone: one fit per series, intervals as the model gives them (there
    are no earlier origins to calibrate on; run_forecasting calibrates from its backtests).
    """
    last = _to_timestamp(end) or _series_end(series)
    tasks = [
        _Task(key, None, frame, params.horizon_days, last, key in with_components)
        for key, frame in series.items()
    ]
    fitted = _execute(tasks, params, progress, stats)
    return {key: fitted[(key, None)] for key in series}


def _backtest_tasks(
    series: Mapping[str, pd.DataFrame], cutoffs: Sequence[pd.Timestamp], params: ForecastParams
) -> list[_Task]:
    tasks = []
    for key, frame in series.items():
        for cutoff in cutoffs:
            train = frame[frame["ds"] <= cutoff]
            if len(train) >= params.min_history_days:
                tasks.append(_Task(key, cutoff, train, params.eval_horizon_days, cutoff, False))
    return tasks


def _score_backtests(
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Mapping[tuple[str, pd.Timestamp | None], SeriesForecast],
    params: ForecastParams,
    model_version: str,
) -> pd.DataFrame:
    rows = []
    horizon = params.eval_horizon_days
    for key, frame in series.items():
        for cutoff in cutoffs:
            train = frame[frame["ds"] <= cutoff]
            if len(train) < 2 * SEASON:
                continue
            end = cutoff + pd.Timedelta(days=horizon)
            actual = frame[(frame["ds"] > cutoff) & (frame["ds"] <= end)]
            if len(actual) < horizon:
                continue
            candidates = {"seasonal_naive": seasonal_naive(train, horizon, params.interval_width)}
            result = fitted.get((key, cutoff))
            if result is not None and result.method == "prophet":
                candidates["prophet"] = result.forecast
            for model, fc in sorted(candidates.items()):
                joined = actual.merge(fc, on="ds", how="inner")
                scores = score_forecast(
                    joined["y"].to_numpy(),
                    joined["yhat"].to_numpy(),
                    joined["yhat_lower"].to_numpy(),
                    joined["yhat_upper"].to_numpy(),
                    train["y"].to_numpy(),
                )
                rows.append(
                    {
                        "series_key": key,
                        "level": series_level(key),
                        "metric": params.metric,
                        "model": model,
                        "cutoff": cutoff.date(),
                        "horizon_days": horizon,
                        "n_obs": len(joined),
                        **scores,
                        "model_version": model_version,
                    }
                )
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def backtest(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: AsOf = None,
    progress: Progress | None = None,
    model_version: str = "",
) -> pd.DataFrame:
    """Rolling-origin backtest of Prophet and seasonal naive per series (BACKTEST_COLUMNS).

    Prophet intervals at each cutoff are calibrated from the earlier cutoffs' errors when
    params.interval_calibration is "rolling_origin" (see calibrate_intervals).
    """
    last = _to_timestamp(end) or _series_end(series)
    cutoffs = backtest_cutoffs(last, params)
    fitted = _execute(_backtest_tasks(series, cutoffs, params), params, progress)
    if params.interval_calibration == "rolling_origin" and last is not None:
        fitted = calibrate_intervals(series, fitted, cutoffs, last, params)
    return _score_backtests(series, cutoffs, fitted, params, model_version)


def _series_end(series: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    ends = [frame["ds"].iloc[-1] for frame in series.values() if len(frame)]
    return max(ends) if ends else None


# --------------------------------------------------------------------------- run


def model_version(params: ForecastParams, as_of: AsOf) -> str:
    """Deterministic version tag from the Prophet version, the params and the as-of date."""
    import prophet

    model_params = params.to_json_dict()
    for name in ("n_jobs", "top_n_plots"):  # change how it runs, not what it outputs
        model_params.pop(name)
    payload = json.dumps(
        {"params": model_params, "as_of": str(_to_timestamp(as_of))}, sort_keys=True
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
    return f"prophet-{prophet.__version__}-{digest}"


def _calibration_summary(
    series: Mapping[str, pd.DataFrame],
    cutoffs: Sequence[pd.Timestamp],
    fitted: Fitted,
    params: ForecastParams,
) -> dict[str, Any]:
    """Conformal factors applied to the production forecasts (and how many were applied)."""
    factors = {
        key: fitted[(key, None)].interval_scale
        for key in series
        if fitted[(key, None)].method == "prophet"
    }
    applied = {k: f for k, f in factors.items() if f is not None}
    by_level: dict[str, list[float]] = {}
    for key, factor in applied.items():
        by_level.setdefault(series_level(key), []).append(factor)
    return {
        "method": params.interval_calibration,
        "n_prophet_forecasts": len(factors),
        "n_calibrated": len(applied),
        "total_factor": applied.get("total"),
        "median_factor_by_level": {lv: float(np.median(v)) for lv, v in sorted(by_level.items())},
        "backtest_cutoffs_calibrated": sum(
            any(c2 + pd.Timedelta(days=params.eval_horizon_days) <= c for c2 in cutoffs)
            for c in cutoffs
        ),
    }


def _top_series(series: Mapping[str, pd.DataFrame], n: int) -> list[str]:
    volume = {key: float(frame["y"].tail(365).sum()) for key, frame in series.items()}
    return sorted(volume, key=lambda k: (-volume[k], k))[:n]


def _summarise(
    backtests: pd.DataFrame, flags: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Any]]:
    def agg(frame: pd.DataFrame) -> dict[str, Any]:
        if frame.empty:
            return {"mase": None, "smape": None, "coverage": None, "n_evals": 0}
        weights = frame["n_obs"].to_numpy(float)
        mase = frame["mase"].replace([np.inf, -np.inf], np.nan).dropna()
        return {
            "mase": float(mase.mean()) if len(mase) else None,
            "mase_median": float(mase.median()) if len(mase) else None,
            "smape": float(frame["smape"].mean()),
            "coverage": float(np.average(frame["coverage"], weights=weights)),
            "n_evals": int(len(frame)),
        }

    per_model: dict[str, dict[str, Any]] = {}
    for model in ("prophet", "seasonal_naive"):
        rows = backtests[backtests["model"] == model]
        per_model[model] = {
            "overall": agg(rows),
            "by_level": {lv: agg(g) for lv, g in rows.groupby("level", sort=True)},
            "total": agg(rows[rows["series_key"] == "total"]),
        }
    wide = backtests.pivot_table(
        index=["series_key", "cutoff"], columns="model", values="mase", aggfunc="first"
    )
    win_rate = None
    if {"prophet", "seasonal_naive"} <= set(wide.columns):
        both = wide.dropna(subset=["prophet", "seasonal_naive"])
        if len(both):
            win_rate = float((both["prophet"] < both["seasonal_naive"]).mean())
    methods = flags["method"].value_counts().sort_index()
    metrics = {
        **per_model["prophet"],
        "win_rate_vs_seasonal_naive": win_rate,
        "n_series": int(len(flags)),
        "n_series_by_level": {k: int(v) for k, v in flags["level"].value_counts().items()},
        "n_fallback": int((flags["method"] != "prophet").sum()),
        "methods": {k: int(v) for k, v in methods.items()},
    }
    return metrics, per_model["seasonal_naive"]


def run_forecasting(
    daily_demand: pd.DataFrame,
    params: ForecastParams | None = None,
    as_of: AsOf = None,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast every series of every level, backtest them, and summarise against baselines."""
    from ml.plots_forecast import plot_backtest_summary, plot_series

    params = params or ForecastParams()
    started = time.perf_counter()
    series = build_series(daily_demand, params.levels, params.metric, as_of)
    prepared = _prepare(daily_demand, params.metric, as_of)
    end = prepared["ds"].max() if len(prepared) else _to_timestamp(as_of)
    start = prepared["ds"].min() if len(prepared) else None
    if end is None:
        raise ValueError("daily_demand is empty and no as_of was given")
    version = model_version(params, end)

    top = set(_top_series(series, params.top_n_plots))
    tasks = [
        _Task(key, None, frame, params.horizon_days, end, key in top)
        for key, frame in series.items()
    ]
    cutoffs = backtest_cutoffs(end, params)
    tasks += _backtest_tasks(series, cutoffs, params)
    exec_stats: dict[str, Any] = {}
    fitted = _execute(tasks, params, progress, exec_stats)
    fit_seconds = time.perf_counter() - started
    if params.interval_calibration == "rolling_origin":
        fitted = calibrate_intervals(series, fitted, cutoffs, end, params)

    forecast_frames, flag_rows = [], []
    for key, frame in series.items():
        res = fitted[(key, None)]
        fc = res.forecast.assign(
            series_key=key,
            level=series_level(key),
            model_version=version,
            metric=params.metric,
            method=res.method,
            fallback_reason=res.reason,
        )
        forecast_frames.append(fc[FORECAST_COLUMNS])
        flag_rows.append(
            {
                "series_key": key,
                "level": series_level(key),
                "method": res.method,
                "reason": res.reason,
                "history_days": len(frame),
                "first_date": frame["ds"].iloc[0].date() if len(frame) else None,
                "last_date": frame["ds"].iloc[-1].date() if len(frame) else None,
            }
        )
    forecasts = pd.concat(forecast_frames, ignore_index=True)
    forecasts["ds"] = pd.to_datetime(forecasts["ds"]).dt.date
    flags = pd.DataFrame(flag_rows, columns=FLAG_COLUMNS)
    backtests = _score_backtests(series, cutoffs, fitted, params, version)
    metrics, baseline = _summarise(backtests, flags)
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    metrics["fit_seconds"] = round(fit_seconds, 3)
    metrics["n_fits"] = len(tasks)
    metrics["workers"] = min(params.workers, len(tasks))
    metrics["fit_cpu_seconds"] = round(exec_stats.get("cpu_seconds", 0.0), 3)
    metrics["interval_calibration"] = _calibration_summary(series, cutoffs, fitted, params)
    summary = {
        "model": "demand_forecast",
        "model_version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": params.to_json_dict(),
        "metrics": metrics,
        "baseline_metrics": {"seasonal_naive": baseline},
        "data_window_start": start.date().isoformat() if start is not None else None,
        "data_window_end": end.date().isoformat(),
        "backtest_cutoffs": [c.date().isoformat() for c in cutoffs],
    }

    figures: dict[str, Any] = {}
    for key in _top_series(series, params.top_n_plots):
        res = fitted[(key, None)]
        name = "forecast_" + key.replace("|", "__").replace("=", "-")
        figures[name] = plot_series(key, series[key], res, params.metric)
    if not backtests.empty:
        figures["backtest_summary"] = plot_backtest_summary(backtests)
    return ForecastResult(forecasts, backtests, summary, flags, figures)
