"""ML assets: segments, churn scores and demand forecasts written back to ml.*."""

import json
from datetime import UTC, date, datetime

import dagster as dg
from pydantic import Field

from ml.churn import ChurnParams, train_and_score_churn
from ml.forecast import ForecastParams, run_forecasting
from ml.segmentation import PreviousSegmentation, SegmentationParams, segment
from orchestration.io import (
    figures_metadata,
    model_run_rows,
    read_frame,
    read_optional,
    write_tables,
)
from orchestration.resources import WRITER_POOL, WarehouseResource
from segmint.settings import get_settings

C360 = dg.AssetKey(["marts", "customer_360"])
HISTORY = dg.AssetKey(["marts", "customer_360_history"])
ORDERS = dg.AssetKey(["marts", "fct_orders"])
DEMAND = dg.AssetKey(["marts", "daily_demand"])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _metric_meta(metrics: dict) -> dict[str, dg.MetadataValue]:
    meta: dict[str, dg.MetadataValue] = {"metrics": dg.MetadataValue.json(metrics)}
    for k, v in metrics.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            meta[k] = dg.MetadataValue.float(float(v))
    return meta


class SegmentationConfig(dg.Config):
    k_min: int = Field(
        default_factory=lambda: get_settings().segment_k_min, description="Fewest segments"
    )
    k_max: int = Field(
        default_factory=lambda: get_settings().segment_k_max, description="Most segments"
    )
    method: str = Field("kmeans", description="kmeans (silhouette) or gmm (BIC)")
    bootstrap_rounds: int = Field(
        default_factory=lambda: get_settings().segment_bootstrap,
        description="Bootstrap resamples for the stability (ARI) check",
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "customer_segments"],
            deps=[C360],
            group_name="ml",
            description="One segment per customer, ids stable across runs",
        ),
        dg.AssetSpec(
            ["ml", "segment_profiles"],
            deps=[C360],
            group_name="ml",
            description="Size, share, feature means and a description per segment",
        ),
    ],
    pool=WRITER_POOL,
)
def segmentation(
    context: dg.AssetExecutionContext, config: SegmentationConfig, warehouse: WarehouseResource
):
    """Cluster customer_360 into named segments, matching ids to the previous run."""
    customers = read_frame(warehouse.path, "select * from marts.customer_360")
    previous_profiles = read_optional(warehouse.path, "ml", "segment_profiles")
    previous = (
        PreviousSegmentation.from_profiles(previous_profiles)
        if previous_profiles is not None and len(previous_profiles)
        else None
    )
    params = SegmentationParams(
        k_min=config.k_min,
        k_max=config.k_max,
        method=config.method,  # type: ignore[arg-type]
        seed=warehouse.seed,
        bootstrap_rounds=config.bootstrap_rounds,
    )
    result = segment(customers, params, previous, run_at=_now())
    counts = write_tables(
        warehouse.path,
        {"ml.customer_segments": result.assignments, "ml.segment_profiles": result.profiles},
        append={"ml.model_runs": model_run_rows(result.run_record)},
    )
    plots = figures_metadata(result.figures, warehouse.artifact_dir("segmentation"))
    yield dg.MaterializeResult(
        asset_key=["ml", "customer_segments"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["ml.customer_segments"]),
            **_metric_meta(result.metrics),
            **plots,
        },
    )
    sizes = result.profiles[["segment_id", "name", "size", "share"]]
    yield dg.MaterializeResult(
        asset_key=["ml", "segment_profiles"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["ml.segment_profiles"]),
            "segments": dg.MetadataValue.md(sizes.to_markdown(index=False)),
        },
    )


class ChurnConfig(dg.Config):
    horizon_days: int = Field(
        default_factory=lambda: get_settings().churn_horizon_days,
        description="A customer churns with no purchase in this many days after the as-of date",
    )
    low_band: float = Field(0.3, description="Below this probability: low risk")
    high_band: float = Field(0.6, description="From this probability: high risk")
    fairness_gap: float = Field(
        0.1, description="Flag positive-rate gaps between groups above this"
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "churn_scores"],
            deps=[C360, HISTORY, ORDERS],
            group_name="ml",
            description="Churn probability, risk band and top drivers per customer",
        ),
        dg.AssetSpec(
            ["ml", "fairness_audit"],
            deps=[C360, HISTORY, ORDERS],
            group_name="ml",
            description="Score distribution, positive rate and AUC by group",
        ),
        dg.AssetSpec(
            ["ml", "feature_drift"],
            deps=[C360, HISTORY, ORDERS],
            group_name="ml",
            description="Population stability index per feature and of the score",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "feature_drift_psi",
            asset=["ml", "feature_drift"],
            description="Warns when a feature or the score drifted (PSI > 0.2)",
        ),
    ],
    pool=WRITER_POOL,
)
def churn(context: dg.AssetExecutionContext, config: ChurnConfig, warehouse: WarehouseResource):
    """Train on earlier cutoffs, evaluate on the latest labelled window, score everyone now."""
    history = read_frame(warehouse.path, "select * from marts.customer_360_history")
    labels = read_frame(warehouse.path, "select * from marts.churn_labels")
    current = read_frame(warehouse.path, "select * from marts.customer_360")
    runs = read_optional(
        warehouse.path,
        "ml",
        "model_runs",
        "select * from ml.model_runs where model = 'churn' order by trained_at desc limit 1",
    )
    previous_drift = None
    if runs is not None and len(runs) and "drift_profile" in runs.columns:
        raw = runs["drift_profile"].iloc[0]
        previous_drift = json.loads(raw) if isinstance(raw, str) and raw else None
    params = ChurnParams(
        horizon_days=config.horizon_days,
        seed=warehouse.seed,
        risk_bands=(config.low_band, config.high_band),
        fairness_gap=config.fairness_gap,
    )
    result = train_and_score_churn(history, labels, current, params, previous_drift, run_at=_now())
    counts = write_tables(
        warehouse.path,
        {
            "ml.churn_scores": result.scores,
            "ml.fairness_audit": result.fairness,
            "ml.feature_drift": result.drift,
        },
        append={"ml.model_runs": model_run_rows(result.run_record)},
    )
    plots = figures_metadata(result.figures, warehouse.artifact_dir("churn"))
    yield dg.MaterializeResult(
        asset_key=["ml", "churn_scores"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["ml.churn_scores"]),
            **_metric_meta({k: v for k, v in result.metrics.items() if not isinstance(v, dict)}),
            "metrics_vs_baselines": dg.MetadataValue.json(result.metrics),
            **plots,
        },
    )
    flagged = result.fairness[result.fairness.get("flagged", False) == True]  # noqa: E712
    yield dg.MaterializeResult(
        asset_key=["ml", "fairness_audit"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["ml.fairness_audit"]),
            "flagged_groups": dg.MetadataValue.int(len(flagged)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["ml", "feature_drift"],
        metadata={"dagster/row_count": dg.MetadataValue.int(counts["ml.feature_drift"])},
    )
    drifted = result.drift[result.drift["status"] == "warn"] if len(result.drift) else result.drift
    yield dg.AssetCheckResult(
        check_name="feature_drift_psi",
        asset_key=["ml", "feature_drift"],
        passed=len(drifted) == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "drifted": dg.MetadataValue.json(
                drifted[["feature", "psi"]].to_dict("records") if len(drifted) else []
            ),
            "compared_with_previous_run": previous_drift is not None,
        },
    )


class ForecastConfig(dg.Config):
    levels: str = Field(
        default_factory=lambda: get_settings().forecast_levels,
        description="Comma list of series levels: total, category, region, category_region",
    )
    metric: str = Field(
        default_factory=lambda: get_settings().forecast_metric,
        description="orders, units or revenue",
    )
    horizon_days: int = Field(
        default_factory=lambda: get_settings().forecast_horizon_days,
        description="Days ahead to forecast",
    )
    backtest_cutoffs: int = Field(
        default_factory=lambda: get_settings().forecast_backtest_cutoffs,
        description="Rolling-origin cutoffs across the last year",
    )
    country_holidays: str = Field(
        default_factory=lambda: get_settings().forecast_country_holidays,
        description="Prophet's built-in holiday calendar",
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "demand_forecasts"],
            deps=[DEMAND],
            group_name="ml",
            description="Prophet forecasts with 80% intervals per series",
        ),
        dg.AssetSpec(
            ["ml", "forecast_backtests"],
            deps=[DEMAND],
            group_name="ml",
            description="Rolling-origin MASE/sMAPE/coverage vs seasonal naive",
        ),
    ],
    pool=WRITER_POOL,
)
def demand_forecasting(
    context: dg.AssetExecutionContext, config: ForecastConfig, warehouse: WarehouseResource
):
    """Forecast daily demand per level with Prophet; fallback series are flagged, not dropped."""
    demand = read_frame(warehouse.path, "select * from marts.daily_demand")
    params = ForecastParams(
        levels=tuple(x.strip() for x in config.levels.split(",") if x.strip()),
        metric=config.metric,
        horizon_days=config.horizon_days,
        backtest_cutoffs=config.backtest_cutoffs,
        country_holidays=config.country_holidays,
        seed=warehouse.seed,
    )
    as_of = date.fromisoformat(warehouse.as_of) if warehouse.as_of else None

    def progress(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            context.log.info(f"forecast fits: {done}/{total}")

    result = run_forecasting(demand, params, as_of=as_of, progress=progress)
    summary = dict(result.summary)
    counts = write_tables(
        warehouse.path,
        {
            "ml.demand_forecasts": result.forecasts,
            "ml.forecast_backtests": result.backtests,
            "ml.forecast_flags": result.flags,
        },
        append={"ml.model_runs": model_run_rows(summary)},
    )
    plots = figures_metadata(result.figures, warehouse.artifact_dir("forecast"))
    fallbacks = result.flags[result.flags["method"] != "prophet"]
    yield dg.MaterializeResult(
        asset_key=["ml", "demand_forecasts"],
        metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["ml.demand_forecasts"]),
            "series": dg.MetadataValue.int(len(result.flags)),
            "fallback_series": dg.MetadataValue.int(len(fallbacks)),
            "metrics_vs_baseline": dg.MetadataValue.json(
                {"metrics": summary.get("metrics"), "baseline": summary.get("baseline_metrics")}
            ),
            **plots,
        },
    )
    yield dg.MaterializeResult(
        asset_key=["ml", "forecast_backtests"],
        metadata={"dagster/row_count": dg.MetadataValue.int(counts["ml.forecast_backtests"])},
    )


ML_ASSETS = [segmentation, churn, demand_forecasting]
