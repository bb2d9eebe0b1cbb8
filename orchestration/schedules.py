"""The nightly schedule over the whole pipeline."""

from __future__ import annotations

import dagster as dg

PIPELINE_JOB = dg.define_asset_job(
    "segmint_pipeline",
    selection=dg.AssetSelection.all(),
    description="Ingest → dbt → checks → models → targeting → exports → publish",
)


def build_nightly_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly",
        job=PIPELINE_JOB,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Runs the whole pipeline every night (SEGMINT_SCHEDULE_CRON / _TIMEZONE).",
    )
