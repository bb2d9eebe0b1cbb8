"""The model settings the ML assets read: one resource, built from the settings object."""

from __future__ import annotations

import dagster as dg

from segmint.settings import Settings


class ModelsResource(dg.ConfigurableResource):
    """Segment search range and the forecast's levels, metric, horizon, backtests, holidays.

    Seed, as-of date and churn horizon live on WarehouseResource: dbt reads them too.
    """

    segment_k_min: int
    segment_k_max: int
    segment_bootstrap: int
    forecast_levels: str
    forecast_metric: str
    forecast_horizon_days: int
    forecast_backtest_cutoffs: int
    forecast_country_holidays: str
    forecast_region_countries: dict[str, str]
    forecast_max_prophet_fits: int | None

    @classmethod
    def from_settings(cls, s: Settings) -> ModelsResource:
        """The resource for these settings."""
        return cls(
            segment_k_min=s.segment_k_min,
            segment_k_max=s.segment_k_max,
            segment_bootstrap=s.segment_bootstrap,
            forecast_levels=s.forecast_levels,
            forecast_metric=s.forecast_metric,
            forecast_horizon_days=s.forecast_horizon_days,
            forecast_backtest_cutoffs=s.forecast_backtest_cutoffs,
            forecast_country_holidays=s.forecast_country_holidays,
            forecast_region_countries=dict(s.forecast_region_countries),
            forecast_max_prophet_fits=s.forecast_max_prophet_fits,
        )
