"""The pipeline benchmark (`python -m benchmarks`) cannot rot.

The default suite checks its pieces on a copy of the shared seeded run (`twice`): the
hand-written SQL floor agrees with dbt's marts, the next day lands as valid files for
existing customers. The whole benchmark at a tiny scale (its own data, its own pipeline run,
~3 minutes) is marked slow: `make bench-smoke` runs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.pipeline import (
    STAGES,
    age_loads,
    land_next_day,
    main,
    markdown,
    run_floor,
    stage_of,
)
from segmint.ingest import ingest
from segmint.project import dbt_manifest


def test_stage_of_maps_every_kind_of_step() -> None:
    assert stage_of("raw_tables") == "ingest"
    assert stage_of("postgres_extract") == "ingest"
    assert stage_of("dbt_models") == "dbt"
    assert stage_of("raw__events_gx_raw_events") == "checks"
    assert stage_of("ml__demand_forecasts_gx_ml_demand_forecasts") == "checks"
    assert stage_of("demand_forecasting") == "forecast"
    assert stage_of("segmentation") == "segmentation"
    assert stage_of("churn") == "churn"
    assert stage_of("dbt_targeting") == "targeting"
    assert stage_of("activation__audience_winback") == "export"
    assert stage_of("publish__snapshot") == "publish"


def _copy_warehouse(twice, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    copy = dest / "segmint.duckdb"
    shutil.copyfile(twice.settings.warehouse, copy)
    # The dbt manifest the prepare step wrote beside it (which models are incremental).
    manifest = dbt_manifest(copy)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dbt_manifest(twice.settings.warehouse), manifest)
    return copy


def test_floor_sql_agrees_with_the_dbt_marts(twice, tmp_path: Path) -> None:
    """benchmarks/floor.sql (customer_360 and daily_demand by hand) matches dbt's marts."""
    warehouse = _copy_warehouse(twice, tmp_path / "wh")
    floor = run_floor(warehouse, tmp_path, tmp_path / "floor.log")
    assert floor["seconds"] > 0 and floor["peak_mb"] > 0
    assert floor["agreement"]["agree"], floor["agreement"]


def test_next_day_lands_as_valid_files_for_existing_customers(twice, tmp_path: Path) -> None:
    """The incremental benchmark's input: aged loads, then one more day of valid files."""
    warehouse = _copy_warehouse(twice, tmp_path / "wh")
    aged = age_loads(warehouse)
    assert "raw.events" in aged and "marts.fct_orders" in aged
    landed = land_next_day(warehouse, tmp_path / "next")
    assert landed["rows"]["orders"] > 0 and landed["rows"]["events"] > 0
    loaded = ingest(tmp_path / "next", warehouse)
    assert loaded.rows_quarantined == 0
    assert loaded.rows_loaded == sum(landed["rows"].values())


@pytest.mark.slow
def test_tiny_benchmark_reports_every_stage_and_the_floor(tmp_path: Path) -> None:
    results = tmp_path / "results"
    # The incremental re-run doubles the time; its pieces are checked above instead.
    report = main(
        ["--customers", "300", "--days", "120", "--workdir", str(tmp_path / "work")]
        + ["--results", str(results), "--no-incremental"]
    )
    scale = report["scales"]["custom"]
    assert scale["generate"]["seconds"] > 0
    assert scale["generate"]["peak_mb"] > 0
    stages = scale["pipeline"]["stages"]
    for stage in STAGES[1:]:
        assert stage in stages, f"stage {stage} missing from {sorted(stages)}"
        assert stages[stage]["seconds"] > 0, stage
        assert stages[stage]["peak_mb"] > 0, stage
    assert not [s for s in stages if s.startswith("other:")], sorted(stages)
    assert scale["pipeline"]["seconds"] > 0
    assert scale["pipeline"]["cpu_seconds"] > 0
    assert scale["pipeline"]["peak_mb"] > 0
    assert scale["dbt_profile"]["models_seconds"] > 0
    floor = scale["floor"]
    assert floor["seconds"] > 0
    assert floor["dbt_ratio"] > 0
    assert floor["agreement"]["agree"], floor["agreement"]

    saved = json.loads((results / "pipeline.json").read_text())
    assert saved["machine"]["nproc"] >= 1
    assert "duckdb" in saved["machine"]["versions"]
    text = (results / "pipeline.md").read_text()
    assert text == markdown(saved)
    assert "| dbt |" in text and "dbt stage / floor" in text
