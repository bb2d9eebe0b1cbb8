"""The ML assets take their settings through resources; run config only overrides them."""

from __future__ import annotations

from orchestration.defs.ml.assets import ChurnConfig, ForecastConfig, SegmentationConfig
from orchestration.lib.resources import ModelsResource, WarehouseResource
from segmint.settings import Settings


def test_model_params_come_from_the_settings_unless_the_run_overrides_them() -> None:
    settings = Settings(
        seed=5,
        churn_horizon_days=60,
        segment_k_min=4,
        segment_bootstrap=2,
        forecast_levels="total, region",
        forecast_horizon_days=14,
        forecast_country_holidays="GB",
        forecast_region_countries={"dach": "de", "online": "none"},
        forecast_max_prophet_fits=50,
    )
    models = ModelsResource.from_settings(settings)
    warehouse = WarehouseResource.from_settings(settings)

    seg = SegmentationConfig().params(models, warehouse.seed)
    assert (seg.k_min, seg.k_max, seg.bootstrap_rounds, seg.seed) == (4, 10, 2, 5)
    assert SegmentationConfig(k_min=2, method="gmm").params(models, 5).k_min == 2

    fc = ForecastConfig().params(models, warehouse.seed)
    assert fc.levels == ("total", "region") and fc.horizon_days == 14
    assert fc.country_holidays == "GB" and fc.seed == 5
    assert fc.region_holidays == {"dach": "DE", "online": None} and fc.max_prophet_fits == 50
    assert ForecastConfig(country_holidays="none").params(models, 5).country_holidays is None
    override = ForecastConfig(levels="category", horizon_days=7).params(models, 5)
    assert override.levels == ("category",) and override.horizon_days == 7

    # One churn horizon: the warehouse's, which dbt's marts read as well.
    churn = ChurnConfig(high_band=0.7).params(warehouse)
    assert churn.horizon_days == warehouse.churn_horizon_days == 60
    assert churn.risk_bands == (0.3, 0.7) and churn.seed == 5
