"""A failed Great Expectations check says which expectation failed and what was observed,
in its summary and in the run summary's one line per failed check (#15, #14.7)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.defs.quality.checks import gx_check
from orchestration.lib.resources import WarehouseResource
from orchestration.runner import RunSummary, failed_check_line
from segmint.ingest import ingest
from tests.conftest import make_settings

EXPECTATION = "orders is the required table: at least one row"


def test_failed_gx_check_names_the_expectation_and_the_observed_value(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.csv").write_text("order_id,customer_id,ordered_at\n1,c1,2024-01-01\n")
    settings = make_settings(tmp_path, landing)
    ingest(settings.landing, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("delete from raw.orders")  # the one ERROR expectation of raw.orders fails

    result = gx_check("raw.orders")(warehouse=WarehouseResource.from_settings(settings))

    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    first = result.description.splitlines()[0]
    assert first == (f"ERROR: expect_table_row_count_to_be_between: {EXPECTATION} — observed 0")
    assert result.metadata["failed_expectations"].value == 1

    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["raw", "orders"]),
        check_name="gx_raw_orders",
        passed=False,
        metadata=result.metadata,
        severity=result.severity,
        description=result.description,
    )
    line = failed_check_line(evaluation)
    assert line == (
        "raw/orders:gx_raw_orders (ERROR): "
        f"expect_table_row_count_to_be_between: {EXPECTATION} — observed 0"
    )


def test_failed_dbt_check_line_has_the_description_and_failing_rows() -> None:
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["marts", "fct_orders"]),
        check_name="assert_completed_revenue_raw_equals_fct_orders",
        passed=False,
        metadata={"dagster_dbt/failed_row_count": 1},
        severity=dg.AssetCheckSeverity.ERROR,
        description="Revenue and count of completed orders in raw equal fct_orders.",
    )
    assert failed_check_line(evaluation) == (
        "marts/fct_orders:assert_completed_revenue_raw_equals_fct_orders (ERROR): "
        "Revenue and count of completed orders in raw equal fct_orders. "
        "— observed 1 failing row(s)"
    )


def test_run_summary_prints_every_failed_check_in_full_and_the_published_path() -> None:
    from rich.console import Console

    long = "marts/customer_360:gx_marts_customer_360 (WARN): " + "x" * 150
    summary = RunSummary(
        success=True,
        run_id="r",
        seconds=1.0,
        failed_checks=[long, "raw/orders:gx_raw_orders (ERROR): y — observed 0"],
        published="/data/warehouse/published.duckdb",
    )
    console = Console(width=60, record=True)  # narrower than the lines
    summary.print(console)
    lines = console.export_text().splitlines()
    assert f"check failed: {long}" in lines
    assert "check failed: raw/orders:gx_raw_orders (ERROR): y — observed 0" in lines
    assert "published: /data/warehouse/published.duckdb" in lines
