"""One settings object: defaults < segmint.yaml < SEGMINT_* env vars < CLI flags."""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from segmint.contract import EARLIEST_DATA_DATE, TABLES


class SourceTable(BaseModel):
    """Where one contract table comes from in the source database."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, description="Source table name; default: the contract name")
    cursor: str | None = Field(
        None,
        description="Incremental cursor column (e.g. updated_at): each ingest reads only rows "
        "whose cursor is at or after the last one seen; none: the whole table every time",
    )


class PostgresSource(BaseModel):
    """An operational Postgres read incrementally by dlt (segmint ingest --from-postgres)."""

    model_config = ConfigDict(extra="forbid")

    dsn_env: str = Field(
        "SEGMINT_SOURCE_DSN",
        description="Env var holding the DSN (postgresql://user:password@host:port/db or "
        "libpq key=value); the DSN itself never goes into a file",
    )
    db_schema: str = Field("public", description="Schema of the source tables")
    tables: dict[str, SourceTable] = Field(
        default_factory=dict, description="Contract table -> source table and cursor column"
    )

    @model_validator(mode="after")
    def _contract_tables(self) -> PostgresSource:
        unknown = sorted(set(self.tables) - set(TABLES))
        if unknown:
            raise ValueError(
                f"source.tables: {', '.join(unknown)} not contract table(s) ({', '.join(TABLES)})"
            )
        if "orders" not in self.tables:
            raise ValueError("source.tables must name orders (the one required table)")
        return self


def _config_file() -> Path:
    return Path(os.environ.get("SEGMINT_CONFIG", "segmint.yaml"))


class Settings(BaseSettings):
    """Where segmint reads and writes, and the knobs of each stage."""

    model_config = SettingsConfigDict(env_prefix="SEGMINT_", extra="ignore")

    warehouse: Path = Field(Path("warehouse/segmint.duckdb"), description="Working DuckDB file")
    published: Path | None = Field(
        None, description="Analyst-facing snapshot; default: <warehouse dir>/published.duckdb"
    )
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description="Engine dbt builds on: duckdb (the warehouse file) or spark (dbt-spark; "
        "segmint[spark], docs/engines.md)",
    )
    spark_dir: Path | None = Field(
        None, description="Spark's lake, tables and metastore; default: <warehouse dir>/spark"
    )
    landing: Path = Field(Path("landing"), description="Folder where raw files land")
    exports: Path = Field(Path("exports"), description="Folder for audience exports")
    audiences: Path = Field(Path("audiences"), description="Folder of audience YAML files")
    artifacts: Path = Field(Path("warehouse/artifacts"), description="Plots, data docs, models")
    as_of: str | None = Field(None, description="As-of date (YYYY-MM-DD); default latest data")
    ingest_earliest_date: date = Field(
        EARLIEST_DATA_DATE,
        description="Earliest plausible order/event/signup date; older values are quarantined",
    )
    base_currency: str = Field(
        "EUR",
        description="ISO 4217 code every summed money column is converted to (raw.fx_rates)",
    )
    schedule_cron: str = Field("0 3 * * *", description="Nightly schedule (cron)")
    schedule_timezone: str = Field("UTC", description="Timezone of the schedule")
    seed: int = Field(42, description="Seed for every model")
    churn_horizon_days: int = Field(90, description="Churn = no purchase within this many days")
    forecast_horizon_days: int = Field(90, description="Days ahead to forecast")
    holdout_salt: str = Field("segmint", description="Salt of the audience holdout hash")
    model_cadence_days: int = Field(
        7,
        ge=0,
        description="Models retrain after this many as-of days (0: every run); in between, "
        "runs score with the stored champion (<warehouse dir>/models)",
    )
    model_tolerance: float = Field(
        0.01,
        ge=0,
        description="A retrained model becomes champion unless its held-out metric is worse "
        "than the champion's on the same window by more than this",
    )
    model_drift_psi: float = Field(
        0.2, gt=0, description="Retrain when an input feature's PSI against training exceeds this"
    )
    segment_k_min: int = Field(3, description="Fewest segments to try")
    segment_k_max: int = Field(10, description="Most segments to try")
    segment_bootstrap: int = Field(10, description="Bootstrap resamples for segment stability")
    forecast_levels: str = Field(
        "total,category,region,category_region", description="Forecast series levels (comma list)"
    )
    forecast_metric: str = Field("orders", description="orders, units or revenue")
    forecast_backtest_cutoffs: int = Field(4, description="Rolling-origin backtest cutoffs")
    forecast_country_holidays: str = Field(
        "auto",
        description="Holidays of the total and category series: 'auto' (the shop's most common "
        "customer country when it has half the orders), an ISO country code, or 'none'",
    )
    forecast_region_countries: dict[str, str] = Field(
        default_factory=dict,
        description="Store region -> ISO country for its holidays ('none': no holidays); "
        "regions not listed follow their most common customer country",
    )
    forecast_max_prophet_fits: int | None = Field(
        600,
        description="Cap on Prophet fits per run (production + backtests; unset: no cap); "
        "series beyond it forecast as shares of their parent",
    )
    recommend_k: int = Field(
        10, description="Product suggestions per customer (ml.recommendations)"
    )
    recommend_stale_days: int = Field(
        60, description="Products not sold in this many days are never recommended"
    )
    recommend_factors: int = Field(32, description="Latent factors of the ALS model")
    recommend_cold_start_orders: int = Field(
        1, description="Customers with at most this many orders get popular suggestions"
    )
    identity_merge_types: str = Field(
        "email,phone",
        description="Identifier types that may merge customer records into one person (comma "
        "list of email, phone); other identifiers (devices) only attach activity to one person",
    )
    identity_max_persons: int = Field(
        5, description="An identifier linked to more customer records than this merges none"
    )
    identity_placeholder_emails: str = Field(
        "noreply@%,no-reply@%,donotreply@%,do-not-reply@%,none@%,guest@%",
        description="E-mails that never merge records (comma list of lower-case LIKE patterns)",
    )
    uplift_min_treated: int = Field(
        200, description="Uplift: fewest treated members with a passed outcome window"
    )
    uplift_min_control: int = Field(
        200, description="Uplift: fewest holdout members with a passed outcome window"
    )
    uplift_min_purchasers: int = Field(
        20, description="Uplift: fewest purchasers in each of the treated and holdout groups"
    )
    value_transaction_model: str = Field(
        "modified_beta_geo",
        description="Customer-value purchase model: modified_beta_geo (MBG/NBD: a one-time "
        "buyer can have left) or beta_geo (BG/NBD)",
    )
    value_interval_draws: int = Field(
        100, description="Laplace draws behind the customer-value intervals"
    )
    pytensor_cache: Path | None = Field(
        None,
        description="PyTensor's compile cache (customer value); default: the user cache "
        "folder, ~/.cache/segmint/pytensor (XDG_CACHE_HOME)",
    )
    source: PostgresSource | None = Field(
        None, description="Operational Postgres to ingest from (segmint ingest --from-postgres)"
    )
    owners: str = Field(
        "team:data", description="Owners of every Dagster asset (comma list: team:x or emails)"
    )

    @field_validator("base_currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if pycountry.currencies.get(alpha_3=code) is None:
            raise ValueError(f"base_currency must be an ISO 4217 code such as EUR, got {value!r}")
        return code

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=_config_file())
        return (init_settings, env_settings, yaml_source)

    @property
    def published_path(self) -> Path:
        return self.published or self.warehouse.parent / "published.duckdb"

    @property
    def spark_path(self) -> Path:
        return self.spark_dir or self.warehouse.parent / "spark"


def identity_vars(merge_types: str, max_persons: int, placeholders: str) -> dict[str, object]:
    """The dbt vars of the identity rules (int_identity_graph) from their settings."""

    def items(text: str) -> list[str]:
        return [t.strip().lower() for t in text.split(",") if t.strip()]

    return {
        "identity_merge_types": items(merge_types),
        "identity_max_persons": max_persons,
        "identity_placeholder_emails": [p.replace("'", "''") for p in items(placeholders)],
    }


@lru_cache
def get_settings() -> Settings:
    return Settings()
