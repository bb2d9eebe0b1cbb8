"""The one job every trigger starts: the whole pipeline."""

from __future__ import annotations

import dagster as dg

PIPELINE_JOB_NAME = "segmint_pipeline"

PIPELINE_JOB = dg.define_asset_job(
    PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest → dbt → checks → models → targeting → exports → publish",
)
