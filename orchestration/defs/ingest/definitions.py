"""The ingest domain: raw tables from the landing folder (and, with a `source` setting, the
dlt extract of an operational Postgres), the privacy inputs, and the two triggers of a
pipeline run (nightly schedule, new files in landing)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest.assets import PRIVACY_SPECS, raw_tables_asset
from orchestration.defs.ingest.schedules import nightly_schedule
from orchestration.defs.ingest.sensors import landing_sensor
from orchestration.lib.jobs import PIPELINE_JOB
from segmint.settings import Settings


def defs(settings: Settings) -> dg.Definitions:
    assets: list = [raw_tables_asset(settings.source), *PRIVACY_SPECS]
    resources: dict = {}
    if settings.source is not None:
        from dagster_dlt import DagsterDltResource

        from orchestration.defs.ingest.postgres import postgres_assets

        assets.append(postgres_assets(settings.source, settings.warehouse.resolve()))
        resources["dlt"] = DagsterDltResource()
    return dg.Definitions(
        assets=assets,
        resources=resources,
        jobs=[PIPELINE_JOB],
        schedules=[nightly_schedule(settings.schedule_cron, settings.schedule_timezone)],
        sensors=[landing_sensor(PIPELINE_JOB, settings.landing.resolve())],
    )
