"""The nightly schedule: the whole pipeline, starting with the new files in landing."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.jobs import PIPELINE_JOB


def nightly_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly",
        job=PIPELINE_JOB,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Runs the whole pipeline every night (settings schedule_cron / "
        "schedule_timezone).",
    )
