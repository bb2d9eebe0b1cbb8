"""The ingest domain: raw tables from the landing folder, the privacy inputs, and the two
triggers of a pipeline run (nightly schedule, new files in landing)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest.assets import PRIVACY_SPECS, raw_tables
from orchestration.defs.ingest.schedules import nightly_schedule
from orchestration.defs.ingest.sensors import landing_sensor
from orchestration.lib.jobs import PIPELINE_JOB
from segmint.settings import Settings


def defs(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_tables, *PRIVACY_SPECS],
        jobs=[PIPELINE_JOB],
        schedules=[nightly_schedule(settings.schedule_cron, settings.schedule_timezone)],
        sensors=[landing_sensor(PIPELINE_JOB, settings.landing.resolve())],
    )
