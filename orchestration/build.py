"""Assemble ingest, dbt, ml, activation and publish into one Definitions for given settings."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt.assets import DBT_ASSETS
from orchestration.dbt.project import dbt_resource
from orchestration.ingest.assets import raw_tables
from orchestration.ingest.sensors import build_landing_sensor
from orchestration.ml.resources import ModelsResource
from orchestration.publish.assets import build_publish_asset
from orchestration.resources import WarehouseResource
from orchestration.schedules import PIPELINE_JOB, build_nightly_schedule
from segmint.settings import Settings

PUBLISHED_PREFIXES = ("marts", "ml", "activation")


def domain_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """Every asset before publish: ingest, dbt, ml, activation."""
    from orchestration.activation.assets import build_activation_assets
    from orchestration.ml.assets import ML_ASSETS

    return [raw_tables, *DBT_ASSETS, *ML_ASSETS, *build_activation_assets(settings)]


def quality_checks() -> list[dg.AssetChecksDefinition]:
    from orchestration.checks import QUALITY_CHECKS

    return list(QUALITY_CHECKS)


def build_definitions(
    settings: Settings, extra_checks: list[dg.AssetChecksDefinition] | None = None
) -> dg.Definitions:
    """The whole code location for these settings (extra_checks: added asset checks)."""
    assets = domain_assets(settings)
    upstream = sorted(
        {key for a in assets for key in a.keys if key.path[0] in PUBLISHED_PREFIXES},
        key=lambda k: k.to_user_string(),
    )
    publish = build_publish_asset(upstream)
    return dg.Definitions(
        assets=[*assets, publish],
        asset_checks=[*quality_checks(), *(extra_checks or [])],
        jobs=[PIPELINE_JOB],
        schedules=[build_nightly_schedule(settings.schedule_cron, settings.schedule_timezone)],
        sensors=[build_landing_sensor(PIPELINE_JOB, settings.landing.resolve())],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "dbt": dbt_resource(),
            "models": ModelsResource.from_settings(settings),
        },
        executor=dg.in_process_executor,
    )
