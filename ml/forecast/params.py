"""Forecast parameters, series levels and the column sets of the forecast tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

LEVEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "total": (),
    "category": ("category",),
    "region": ("store_region",),
    "category_region": ("category", "store_region"),
}
KEY_NAMES: dict[str, str] = {"category": "category", "store_region": "region"}
METRICS: tuple[str, ...] = ("orders", "units", "revenue")

SEASON = 7
UNKNOWN = "unknown"
AUTO = "auto"  # holidays: derive the country from the customers' countries (ml.forecast.holidays)

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
    "parent_key",
    "holiday_country",
    "recent_volume",
    "nonzero_share",
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
    # Holidays of the series spanning regions (total, category): "auto" = the shop's most
    # common customer country when it holds >= shop_country_min_share of the orders; a code;
    # or None. region_holidays: region -> code (or None); regions not listed follow their
    # customers (resolved by run_forecasting from marts.daily_orders, see ml.forecast.holidays).
    country_holidays: str | None = AUTO
    shop_country_min_share: float = 0.5
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
    region_holidays: Mapping[str, str | None] = field(default_factory=dict)
    # Cost by shape (ml.forecast.selection): Prophet for series with min_history_days of
    # history and at least prophet_min_nonzero_share non-zero days over the last
    # volume_window_days, largest recent volume first, until max_prophet_fits fits (the
    # production fit plus one per backtest origin) are used (None: no cap). Every other
    # series with enough history forecasts as its share of its parent's forecast.
    max_prophet_fits: int | None = 600
    prophet_min_nonzero_share: float = 0.6
    volume_window_days: int = 90
    share_window_days: int = 56
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
        if self.max_prophet_fits is not None and self.max_prophet_fits < 0:
            raise ValueError("max_prophet_fits must be >= 0 (or None for no cap)")
        shares = (self.prophet_min_nonzero_share, self.shop_country_min_share)
        if not all(0 <= share <= 1 for share in shares):
            raise ValueError("prophet_min_nonzero_share, shop_country_min_share: in [0, 1]")
        if self.volume_window_days < 1 or self.share_window_days < SEASON:
            raise ValueError(f"volume_window_days must be >= 1, share_window_days >= {SEASON}")
        for country in {self.country_holidays, *self.region_holidays.values()} - {None, AUTO}:
            check_country(country)

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


def check_country(country: str) -> None:
    """Raise ValueError unless Prophet has a built-in holiday calendar for the country."""
    # Lazy: Prophet (and cmdstanpy) take seconds to import; only a fit or this check needs it.
    from prophet.make_holidays import get_country_holidays_class

    try:
        get_country_holidays_class(country)
    except AttributeError as exc:
        raise ValueError(f"no built-in holiday calendar for country {country!r}") from exc
