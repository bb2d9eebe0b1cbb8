"""Assemble ingest, dbt, ml, activation and publish into one Definitions for given settings."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt.assets import DBT_ASSETS
from orchestration.dbt.project import dbt_project
from orchestration.ingest.assets import RAW_KEYS, raw_tables
from orchestration.ingest.sensors import build_landing_sensor
from orchestration.publish.assets import build_publish_asset
from orchestration.resources import WarehouseResource
from orchestration.schedules import PIPELINE_JOB, build_nightly_schedule
from segmint.settings import Settings

PUBLISHED_PREFIXES = ("marts", "ml", "activation")


def domain_assets() -> list[dg.AssetsDefinition]:
    """Every asset before publish (later domains append here)."""
    from orchestration.activation.assets import ACTIVATION_ASSETS
    from orchestration.ml.assets import ML_ASSETS

    return [raw_tables, *DBT_ASSETS, *ML_ASSETS, *ACTIVATION_ASSETS]


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """Raw tables should be loaded at least daily (evaluated by a sensor, WARN)."""
    return list(
        dg.build_last_update_freshness_checks(
            assets=list(RAW_KEYS.values()), lower_bound_delta=timedelta(hours=26)
        )
    )


def quality_checks() -> list[dg.AssetChecksDefinition]:
    from orchestration.checks import QUALITY_CHECKS

    return list(QUALITY_CHECKS)


def build_definitions(settings: Settings) -> dg.Definitions:
    assets = domain_assets()
    freshness = freshness_checks()
    upstream = sorted(
        {key for a in assets for key in a.keys if key.path[0] in PUBLISHED_PREFIXES},
        key=lambda k: k.to_user_string(),
    )
    publish = build_publish_asset(upstream)
    return dg.Definitions(
        assets=[*assets, publish],
        asset_checks=[*freshness, *quality_checks()],
        jobs=[PIPELINE_JOB],
        schedules=[build_nightly_schedule(settings.schedule_cron, settings.schedule_timezone)],
        sensors=[
            build_landing_sensor(PIPELINE_JOB, settings.landing.resolve()),
            dg.build_sensor_for_freshness_checks(freshness_checks=freshness),
        ],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "dbt": DbtCliResource(project_dir=dbt_project),
        },
        executor=dg.in_process_executor,
    )
