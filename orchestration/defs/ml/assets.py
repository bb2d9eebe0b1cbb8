"""ML assets: segments, churn scores and demand forecasts written back to ml.*.

Each asset reads its marts, runs one model of ml/ and hands the result to `_write_back`:
tables and the model's `ModelRun` land in one transaction, its figures (ml.plots) are saved
as PNG and attached to the first asset's materialization.

The models (scikit-learn, Prophet, matplotlib: about 4 s of imports) are imported inside
the asset bodies and the config's `params`, not at module level, so the code location loads
in a second or two and `segmint ui` is ready within 15 s; none of these imports hides a
cycle (ml never imports orchestration).
"""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field

from orchestration.defs.ml.registry import decision_metadata, model_registry
from orchestration.lib.io import (
    column_schema,
    figures_metadata,
    read_frame,
    read_optional,
)
from orchestration.lib.resources import WRITER_POOL, ModelsResource, WarehouseResource

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ml.churn import ChurnParams, ChurnResult
    from ml.forecast import ForecastParams
    from ml.runs import ModelRun
    from ml.segmentation import SegmentationParams

C360 = dg.AssetKey(["marts", "customer_360"])
HISTORY = dg.AssetKey(["marts", "customer_360_history"])
LABELS = dg.AssetKey(["marts", "churn_labels"])
DEMAND = dg.AssetKey(["marts", "daily_demand"])
DAILY_ORDERS = dg.AssetKey(["marts", "daily_orders"])
Metadata = dict[str, dg.MetadataValue]
SKLEARN = {"scikit-learn", "duckdb"}
PROPHET = {"prophet", "duckdb"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _or(value: Any, default: Any) -> Any:
    """A run-config override, or the resource's value when the override is unset."""
    return default if value is None else value


def _number(value: Any) -> dg.MetadataValue | None:
    """An int as an int, a finite float as a float, anything else: not a number to show."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return dg.MetadataValue.float(value)
    return None


def _metric_meta(metrics: dict, main: str, baseline_name: str, baseline: Any) -> Metadata:
    """Every scalar metric at the top level (counts as ints), the main one beside its baseline.

    `main` names the metric the UI should compare across runs; `baseline_<main>` is the same
    metric of the simple baseline (`baseline_name`), so both plot side by side.
    """
    meta: Metadata = {"metrics": dg.MetadataValue.json(metrics)}
    for k, v in metrics.items():
        number = _number(v)
        if number is not None:
            meta[k] = number
    meta["main_metric"] = dg.MetadataValue.text(main)
    meta["baseline"] = dg.MetadataValue.text(baseline_name)
    for key, value in ((main, metrics.get(main)), (f"baseline_{main}", baseline)):
        number = _number(value)
        meta[key] = number if number is not None else dg.MetadataValue.null()
    return meta


def _write_back(
    warehouse: WarehouseResource,
    artifacts: str,
    tables: "dict[str, pd.DataFrame]",
    run: "ModelRun",
    figures: "dict[str, Figure]",
    reported: dict[str, Metadata],
) -> Iterator[dg.MaterializeResult]:
    """Write the tables and append the run in one transaction, save the figures, report.

    `reported` names the tables that are assets, in the order they are materialized, with
    their extra metadata; each gets its row count, the first one also the figures (saved
    under <artifacts>/<artifacts name>/). Other tables in `tables` are written, not reported.
    """
    from ml.runs import model_runs_frame

    counts = warehouse.engine_io().write_tables(
        tables, append={"ml.model_runs": model_runs_frame([run])}
    )
    plots = figures_metadata(figures, warehouse.artifact_dir(artifacts))
    for i, (table, meta) in enumerate(reported.items()):
        yield dg.MaterializeResult(
            asset_key=table.split("."),
            metadata={
                "dagster/row_count": dg.MetadataValue.int(counts[table]),
                "dagster/column_schema": column_schema(tables[table]),
                **meta,
                **(plots if i == 0 else {}),
            },
        )


class SegmentationConfig(dg.Config):
    k_min: int | None = Field(None, description="Fewest segments (unset: settings)")
    k_max: int | None = Field(None, description="Most segments (unset: settings)")
    method: str = Field("kmeans", description="kmeans (silhouette) or gmm (BIC)")
    bootstrap_rounds: int | None = Field(
        None, description="Bootstrap resamples for the stability (ARI) check (unset: settings)"
    )
    retrain: bool = Field(False, description="Refit now instead of scoring with the champion")

    def params(self, models: ModelsResource, seed: int) -> "SegmentationParams":
        """Segmentation parameters: this run's overrides over the settings."""
        from ml.segmentation import SegmentationParams

        return SegmentationParams(
            k_min=_or(self.k_min, models.segment_k_min),
            k_max=_or(self.k_max, models.segment_k_max),
            method=self.method,  # type: ignore[arg-type]
            seed=seed,
            bootstrap_rounds=_or(self.bootstrap_rounds, models.segment_bootstrap),
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "customer_segments"],
            deps=[C360],
            group_name="ml",
            kinds=SKLEARN,
            description="One segment per customer, ids stable across runs",
        ),
        dg.AssetSpec(
            ["ml", "segment_profiles"],
            deps=[C360],
            group_name="ml",
            kinds=SKLEARN,
            description="Size, share, feature means and a description per segment",
        ),
    ],
    pool=WRITER_POOL,
)
def segmentation(
    context: dg.AssetExecutionContext,
    config: SegmentationConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Cluster customer_360 into named segments, matching ids to the previous run."""
    from ml.plots import segmentation as segmentation_plots
    from ml.segmentation import PreviousSegmentation, segment

    customers = read_frame(warehouse, "select * from marts.customer_360")
    previous_profiles = read_optional(warehouse, "ml", "segment_profiles")
    previous = (
        PreviousSegmentation.from_profiles(previous_profiles)
        if previous_profiles is not None and len(previous_profiles)
        else None
    )
    params = config.params(models, warehouse.seed)
    registry = model_registry(context, warehouse, models, config.retrain)
    result = segment(
        customers, params, previous, run_at=_now(), registry=registry, log=context.log.info
    )
    sizes = result.profiles[["segment_id", "name", "size", "share"]]
    yield from _write_back(
        warehouse,
        "segmentation",
        {"ml.customer_segments": result.assignments, "ml.segment_profiles": result.profiles},
        result.run,
        segmentation_plots.figures(result),
        {
            "ml.customer_segments": _metric_meta(
                result.metrics,
                "silhouette",
                "rfm_grid",
                result.run.baseline_metrics.get("rfm_grid_silhouette"),
            )
            | decision_metadata(result.run.decision),
            "ml.segment_profiles": {
                "segments": dg.MetadataValue.md(sizes.to_markdown(index=False))
            },
        },
    )


class ChurnConfig(dg.Config):
    low_band: float = Field(0.3, description="Below this probability: low risk")
    high_band: float = Field(0.6, description="From this probability: high risk")
    fairness_gap: float = Field(
        0.1, description="Flag positive-rate gaps between groups above this"
    )
    retrain: bool = Field(False, description="Refit now instead of scoring with the champion")

    def params(self, warehouse: WarehouseResource) -> "ChurnParams":
        """Churn parameters; the horizon is the warehouse's, the one dbt's marts use too."""
        from ml.churn import ChurnParams

        return ChurnParams(
            horizon_days=warehouse.churn_horizon_days,
            seed=warehouse.seed,
            risk_bands=(self.low_band, self.high_band),
            fairness_gap=self.fairness_gap,
        )


def _best_baseline(baselines: dict) -> tuple[str, Any]:
    """The churn baseline with the highest holdout ROC-AUC, and that AUC."""
    scored = {
        name: m.get("roc_auc")
        for name, m in baselines.items()
        if isinstance(m, dict) and _number(m.get("roc_auc")) is not None
    }
    if not scored:
        return "none", None
    name = max(scored, key=lambda n: scored[n])
    return name, scored[name]


def _previous_drift_profile(warehouse: WarehouseResource) -> dict | None:
    """The drift profile the last churn run recorded in ml.model_runs (None on the first)."""
    runs = read_optional(
        warehouse,
        "ml",
        "model_runs",
        "select * from ml.model_runs where model = 'churn' order by trained_at desc limit 1",
    )
    if runs is None or not len(runs) or "drift_profile" not in runs.columns:
        return None
    raw = runs["drift_profile"].iloc[0]
    return json.loads(raw) if isinstance(raw, str) and raw else None


def _drift_check(result: "ChurnResult", compared: bool) -> dg.AssetCheckResult:
    """Warn when a feature or the score drifted against the previous run."""
    drifted = result.drift[result.drift["status"] == "warn"] if len(result.drift) else result.drift
    return dg.AssetCheckResult(
        check_name="feature_drift_psi",
        asset_key=["ml", "feature_drift"],
        passed=len(drifted) == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "drifted": dg.MetadataValue.json(
                drifted[["feature", "psi"]].to_dict("records") if len(drifted) else []
            ),
            "compared_with_previous_run": compared,
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "churn_scores"],
            deps=[C360, HISTORY, LABELS],
            group_name="ml",
            kinds=SKLEARN,
            description="Churn probability, risk band and top drivers per customer",
        ),
        dg.AssetSpec(
            ["ml", "fairness_audit"],
            deps=[C360, HISTORY, LABELS],
            group_name="ml",
            kinds=SKLEARN,
            description="Score distribution, positive rate and AUC by group",
        ),
        dg.AssetSpec(
            ["ml", "feature_drift"],
            deps=[C360, HISTORY, LABELS],
            group_name="ml",
            kinds=SKLEARN,
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
def churn(
    context: dg.AssetExecutionContext,
    config: ChurnConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Train on earlier cutoffs, evaluate on the latest labelled window, score everyone now."""
    from ml.churn import train_and_score_churn
    from ml.plots import churn as churn_plots

    params = config.params(warehouse)
    history = read_frame(warehouse, "select * from marts.customer_360_history")
    labels = read_frame(warehouse, "select * from marts.churn_labels")
    current = read_frame(warehouse, "select * from marts.customer_360")
    previous_drift = _previous_drift_profile(warehouse)
    registry = model_registry(context, warehouse, models, config.retrain)
    result = train_and_score_churn(
        history, labels, current, params, previous_drift, _now(), registry, context.log.info
    )
    scalars = {k: v for k, v in result.metrics.items() if not isinstance(v, dict)}
    flagged = int(result.fairness["flagged"].astype(bool).sum())
    yield from _write_back(
        warehouse,
        "churn",
        {
            "ml.churn_scores": result.scores,
            "ml.fairness_audit": result.fairness,
            "ml.feature_drift": result.drift,
        },
        result.run,
        churn_plots.figures(result),
        {
            "ml.churn_scores": {
                **_metric_meta(scalars, "roc_auc", *_best_baseline(result.run.baseline_metrics)),
                "metrics_vs_baselines": dg.MetadataValue.json(result.metrics),
                **decision_metadata(result.run.decision),
            },
            "ml.fairness_audit": {"flagged_groups": dg.MetadataValue.int(flagged)},
            "ml.feature_drift": {},
        },
    )
    yield _drift_check(result, compared=previous_drift is not None)


def _overall(metrics: dict) -> dict:
    """The forecast's pooled backtest metrics (mase, smape, coverage, n_evals)."""
    overall = metrics.get("overall")
    return dict(overall) if isinstance(overall, dict) else {}


class ForecastConfig(dg.Config):
    levels: str | None = Field(
        None,
        description="Comma list of series levels: total, category, region, category_region "
        "(unset: settings)",
    )
    metric: str | None = Field(None, description="orders, units or revenue (unset: settings)")
    horizon_days: int | None = Field(None, description="Days ahead to forecast (unset: settings)")
    backtest_cutoffs: int | None = Field(
        None, description="Rolling-origin cutoffs across the last year (unset: settings)"
    )
    country_holidays: str | None = Field(
        None,
        description="Holidays of the total and category series: auto, a country code or none "
        "(unset: settings)",
    )
    max_prophet_fits: int | None = Field(
        None, description="Cap on Prophet fits; the rest: shares of their parent (unset: settings)"
    )
    retrain: bool = Field(
        False, description="Refit and backtest now instead of predicting from the stored fits"
    )

    def params(self, models: ModelsResource, seed: int) -> "ForecastParams":
        """Forecast parameters: this run's overrides over the settings."""
        from ml.forecast import ForecastParams
        from ml.forecast.holidays import normalise_country

        levels = _or(self.levels, models.forecast_levels)
        return ForecastParams(
            levels=tuple(x.strip() for x in levels.split(",") if x.strip()),
            metric=_or(self.metric, models.forecast_metric),
            horizon_days=_or(self.horizon_days, models.forecast_horizon_days),
            backtest_cutoffs=_or(self.backtest_cutoffs, models.forecast_backtest_cutoffs),
            country_holidays=normalise_country(
                _or(self.country_holidays, models.forecast_country_holidays)
            ),
            region_holidays={
                region: normalise_country(country)
                for region, country in models.forecast_region_countries.items()
            },
            max_prophet_fits=_or(self.max_prophet_fits, models.forecast_max_prophet_fits),
            seed=seed,
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["ml", "demand_forecasts"],
            deps=[DEMAND, DAILY_ORDERS],
            group_name="ml",
            kinds=PROPHET,
            description="Forecasts with 80% intervals per series: Prophet where history and "
            "volume pay for it (capped), shares of the parent forecast for the sparse tail",
        ),
        dg.AssetSpec(
            ["ml", "forecast_backtests"],
            deps=[DEMAND, DAILY_ORDERS],
            group_name="ml",
            kinds=PROPHET,
            description="Rolling-origin MASE/sMAPE/coverage vs seasonal naive",
        ),
    ],
    pool=WRITER_POOL,
)
def demand_forecasting(
    context: dg.AssetExecutionContext,
    config: ForecastConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Forecast daily demand per level with Prophet; fallback series are flagged, not dropped."""
    from ml.forecast import run_forecasting
    from ml.plots import forecast as forecast_plots

    demand = read_frame(warehouse, "select * from marts.daily_demand")
    order_counts = read_frame(warehouse, "select * from marts.daily_orders")
    params = config.params(models, warehouse.seed)
    as_of = date.fromisoformat(warehouse.as_of) if warehouse.as_of else None

    def progress(done: int, total: int) -> None:
        if done == total or done % max(25, total // 20) == 0:
            context.log.info(f"forecast: {done}/{total} (Prophet fits, then the share-based tail)")

    registry = model_registry(context, warehouse, models, config.retrain)
    result = run_forecasting(
        demand,
        params,
        as_of=as_of,
        progress=progress,
        run_at=_now(),
        order_counts=order_counts,
        registry=registry,
        log=context.log.info,
        # on Spark the Prophet fits fan out with applyInPandas (ml.forecast.spark_pool)
        spark=warehouse.engine_io().session if warehouse.on_spark else None,
    )
    fallbacks = result.flags[result.flags["method"] != "prophet"]
    yield from _write_back(
        warehouse,
        "forecast",
        {
            "ml.demand_forecasts": result.forecasts,
            "ml.forecast_backtests": result.backtests,
            "ml.forecast_flags": result.flags,
        },
        result.run,
        forecast_plots.figures(result),
        {
            "ml.demand_forecasts": {
                **_metric_meta(
                    _overall(result.run.metrics),
                    "mase",
                    "seasonal_naive",
                    _overall(result.run.baseline_metrics.get("seasonal_naive") or {}).get("mase"),
                ),
                "series": dg.MetadataValue.int(len(result.flags)),
                "fallback_series": dg.MetadataValue.int(len(fallbacks)),
                "metrics_vs_baseline": dg.MetadataValue.json(
                    {"metrics": result.run.metrics, "baseline": result.run.baseline_metrics}
                ),
                **decision_metadata(result.run.decision),
            },
            "ml.forecast_backtests": {},
        },
    )


ML_ASSETS = [segmentation, churn, demand_forecasting]
