"""Resources shared by every domain: where things live, the model knobs, the one-writer pool.

Settings reach assets only through these resources (built once per code location from the
settings object); no asset reads the environment or the settings itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from orchestration.lib.engine import DuckDBEngine, Engine, SparkEngine
from orchestration.lib.prepare import dbt_vars
from segmint.project import dbt_dir
from segmint.settings import Settings, identity_vars

# Every asset that writes the DuckDB file takes this pool; dagster.yaml limits it to 1, and
# the default executor runs in process, so two writers never hold the file at once.
WRITER_POOL = "duckdb_writer"


class WarehouseResource(dg.ConfigurableResource):
    """Where the working warehouse, the published snapshot, landing and exports live, and the
    run-wide values dbt and the models share.

    `churn_horizon_days` is the one churn horizon: dbt gets it as the var of every
    invocation (history cutoffs, churn_labels) and the churn model as its label horizon.
    """

    path: str
    published: str
    landing: str
    exports: str
    audiences: str
    artifacts: str
    as_of: str | None = None
    seed: int = 42
    churn_horizon_days: int = 90
    base_currency: str = "EUR"
    holdout_salt: str = "segmint"
    identity_merge_types: str = Settings.model_fields["identity_merge_types"].default
    identity_max_persons: int = Settings.model_fields["identity_max_persons"].default
    identity_placeholder_emails: str = Settings.model_fields["identity_placeholder_emails"].default
    # The engine the dbt project and the models' tables live on (docs/engines.md).
    engine: str = "duckdb"
    spark_dir: str | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> WarehouseResource:
        return cls(
            path=str(s.warehouse.resolve()),
            published=str(s.published_path.resolve()),
            landing=str(s.landing.resolve()),
            exports=str(s.exports.resolve()),
            audiences=str(s.audiences.resolve()),
            artifacts=str(s.artifacts.resolve()),
            as_of=s.as_of,
            seed=s.seed,
            churn_horizon_days=s.churn_horizon_days,
            base_currency=s.base_currency,
            holdout_salt=s.holdout_salt,
            identity_merge_types=s.identity_merge_types,
            identity_max_persons=s.identity_max_persons,
            identity_placeholder_emails=s.identity_placeholder_emails,
            engine=s.engine,
            spark_dir=str(s.spark_path.resolve()),
        )

    def engine_io(self) -> Engine:
        """Where the models read their inputs and write their outputs, and what each dbt
        step prepares first: the DuckDB file, or Spark and its lake (orchestration.lib.engine)."""
        if self.engine == "spark":
            return SparkEngine(self.path, self.spark_dir or str(self.db.parent / "spark"))
        return DuckDBEngine(self.path)

    @property
    def on_spark(self) -> bool:
        return self.engine == "spark"

    @property
    def db(self) -> Path:
        return Path(self.path)

    @property
    def dbt_dir(self) -> Path:
        """dbt's folder for this warehouse: manifest, parse state, per-step targets and logs."""
        return dbt_dir(self.db)

    def dbt_vars(self) -> dict[str, object]:
        """The vars of every dbt invocation (the prepare step parses with the same ones)."""
        identity = identity_vars(
            self.identity_merge_types, self.identity_max_persons, self.identity_placeholder_emails
        )
        return dbt_vars(self.churn_horizon_days, self.as_of, self.base_currency, identity)

    @property
    def models_dir(self) -> Path:
        """The model registry: <warehouse dir>/models/<model>/<version>/ (ml.registry)."""
        return self.db.parent / "models"

    def artifact_dir(self, name: str) -> Path:
        d = Path(self.artifacts) / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def export_env(self) -> None:
        """Environment the dbt subprocess reads (profiles.yml uses SEGMINT_WAREHOUSE)."""
        os.environ["SEGMINT_WAREHOUSE"] = self.path
        os.environ["SEGMINT_ENGINE"] = self.engine
        if self.on_spark and self.spark_dir:
            os.environ["SEGMINT_SPARK_DIR"] = self.spark_dir
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"


class ModelsResource(dg.ConfigurableResource):
    """Segment search range, the forecast's levels, metric, horizon, backtests, holidays, and
    the recommender's list length, stale window, factors and cold-start threshold;
    the customer-value model (pytensor_cache None: the user cache folder).

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
    recommend_k: int = 10
    recommend_stale_days: int = 60
    recommend_factors: int = 32
    recommend_cold_start_orders: int = 1
    uplift_min_treated: int = 200
    uplift_min_control: int = 200
    uplift_min_purchasers: int = 20
    value_transaction_model: str = "modified_beta_geo"
    value_interval_draws: int = 100
    pytensor_cache: str | None = None
    model_cadence_days: int = 7
    model_tolerance: float = 0.01
    model_drift_psi: float = 0.2

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
            recommend_k=s.recommend_k,
            recommend_stale_days=s.recommend_stale_days,
            recommend_factors=s.recommend_factors,
            recommend_cold_start_orders=s.recommend_cold_start_orders,
            uplift_min_treated=s.uplift_min_treated,
            uplift_min_control=s.uplift_min_control,
            uplift_min_purchasers=s.uplift_min_purchasers,
            value_transaction_model=s.value_transaction_model,
            value_interval_draws=s.value_interval_draws,
            pytensor_cache=str(s.pytensor_cache.resolve()) if s.pytensor_cache else None,
            model_cadence_days=s.model_cadence_days,
            model_tolerance=s.model_tolerance,
            model_drift_psi=s.model_drift_psi,
        )
