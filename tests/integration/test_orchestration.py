"""The Dagster code location end to end: loads, materializes twice, schedules, sensors,
blocking checks, readers during a run, and the UI serving the asset graph."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from orchestration.runner import prepare_environment, run_pipeline
from segmint.warehouse import read_manifest, verify_published

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def settings(twice):
    """Settings of the shared run (tests/conftest.py `twice`): two runs already happened."""
    return twice.settings


@pytest.fixture(scope="module")
def first_run(twice):
    return twice.first


def test_definitions_validate(settings) -> None:
    env = {**os.environ, "SEGMINT_WAREHOUSE": str(settings.warehouse)}
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_full_graph_materializes_and_publishes(first_run, settings) -> None:
    mats = first_run.materialized
    for key in ("raw/orders", "marts/customer_360", "marts/daily_demand", "publish/snapshot"):
        assert key in mats, sorted(mats)
    assert mats["raw/orders"] > 0
    assert mats["marts/customer_360"] > 0
    counts = read_manifest(settings.published_path)
    assert counts["marts.customer_360"] == mats["marts/customer_360"]
    assert verify_published(settings.published_path) == {}


def test_second_run_in_a_row_succeeds_and_skips_loaded_files(twice) -> None:
    """The shared fixture ran the pipeline twice with an analyst reading the published file
    throughout (tests/runs.py READER); the reliability tests check that reader's figures."""
    first, second = twice.first, twice.second
    assert second.success, second.render()
    assert second.materialized["raw/orders"] == first.materialized["raw/orders"]
    before, after = twice.first_manifest, twice.second_manifest
    # Same inputs: marts and per-customer outputs are unchanged; run logs grow.
    stable = [k for k in before if k.startswith("marts.")] + [
        "ml.customer_segments",
        "ml.churn_scores",
        "ml.demand_forecasts",
    ]
    assert {k: after[k] for k in stable} == {k: before[k] for k in stable}
    assert after["ml.model_runs"] == 2 * before["ml.model_runs"]


def test_failing_blocking_check_keeps_previous_snapshot(first_run, settings) -> None:
    before = read_manifest(settings.published_path)
    mtime = settings.published_path.stat().st_mtime_ns

    @dg.asset_check(asset=dg.AssetKey(["marts", "customer_360"]), blocking=True)
    def customer_count_matches_crm(context) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description="customer count differs from the CRM's",
        )

    summary = run_pipeline(settings, extra_checks=[customer_count_matches_crm])
    assert not summary.success
    assert any("customer_count_matches_crm" in c for c in summary.failed_checks)
    assert "publish/snapshot" not in summary.materialized
    assert settings.published_path.stat().st_mtime_ns == mtime
    assert read_manifest(settings.published_path) == before


def test_schedule_and_sensor_evaluate(settings, tmp_path) -> None:
    from orchestration.definitions import build_definitions

    prepare_environment(settings)
    landing = tmp_path / "landing"
    landing.mkdir()
    defs = build_definitions(
        settings.model_copy(
            update={
                "landing": landing,
                "schedule_cron": "30 2 * * *",
                "schedule_timezone": "Europe/Berlin",
            }
        )
    )
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.cron_schedule == "30 2 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    with dg.build_schedule_context() as ctx:
        requests = list(schedule.evaluate_tick(ctx).run_requests or [])
    assert len(requests) == 1
    sensor = defs.resolve_sensor_def("new_landing_files")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=None)
        first = sensor.evaluate_tick(ctx)
        assert not first.run_requests and first.skip_message
        (landing / "orders_2026.csv").write_text(
            "order_id,customer_id,ordered_at\n1,c1,2026-01-01\n"
        )
        ctx = dg.build_sensor_context(instance=instance, cursor=None)
        second = sensor.evaluate_tick(ctx)
        assert len(second.run_requests) == 1
        ctx = dg.build_sensor_context(instance=instance, cursor=second.cursor)
        third = sensor.evaluate_tick(ctx)
        assert not third.run_requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_serves_asset_graph_from_raw_to_publish(settings) -> None:
    port = _free_port()
    env = {**os.environ, "SEGMINT_WAREHOUSE": str(settings.warehouse)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("segmint")), "ui", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
        deadline = time.time() + 180
        keys: set[str] = set()
        while time.time() < deadline and not keys:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=query,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(req, timeout=10) as resp:
                    nodes = json.load(resp)["data"]["assetNodes"]
                keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
            except Exception:
                time.sleep(2)
        assert {"raw/orders", "marts/customer_360", "publish/snapshot"} <= keys, sorted(keys)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _latest_metadata(settings, *key: str) -> dict:
    """Metadata of the latest materialization of `key` in the runs' Dagster instance."""
    instance = dg.DagsterInstance.from_config(str(settings.warehouse.resolve().parent / "dagster"))
    try:
        event = instance.get_latest_materialization_event(dg.AssetKey(list(key)))
        assert event is not None, key
        return dict(event.asset_materialization.metadata)
    finally:
        instance.dispose()


@pytest.mark.parametrize(
    ("key", "column", "main", "count"),
    [
        (("ml", "churn_scores"), "churn_probability", "roc_auc", "n"),
        (("ml", "customer_segments"), "segment_id", "silhouette", "k"),
        (("ml", "demand_forecasts"), "yhat", "mase", "n_evals"),
    ],
)
def test_model_assets_carry_schema_main_metric_baseline_and_plots(
    first_run, settings, key, column, main, count
) -> None:
    meta = _latest_metadata(settings, *key)
    schema = meta["dagster/column_schema"].schema
    assert column in [c.name for c in schema.columns]
    assert meta["main_metric"].value == main
    assert isinstance(meta[main], dg.FloatMetadataValue)
    assert isinstance(meta[f"baseline_{main}"], dg.FloatMetadataValue)
    assert isinstance(meta[count], dg.IntMetadataValue)
    plots = [k for k, v in meta.items() if k.startswith("plot_") and not k.endswith("_path")]
    assert plots and all("data:image/png;base64," in meta[k].value for k in plots)
    assert all(Path(meta[f"{k}_path"].value).is_file() for k in plots)


def test_reconciliation_tests_are_asset_checks_on_their_marts(twice) -> None:
    """The five singular reconciliation tests are evaluated as checks of their marts, and the
    run logs no warning about them (dagster-dbt warned about each unattached test)."""
    expected = {
        "assert_completed_revenue_raw_equals_fct_orders": "marts/fct_orders",
        "assert_customer_360_counts_distinct_known_customers": "marts/customer_360",
        "assert_daily_demand_revenue_equals_fct_orders": "marts/daily_demand",
        "assert_customer_360_history_uses_only_rows_before_cutoff": "marts/customer_360_history",
        "assert_fct_sessions_cover_every_sessionized_event": "marts/fct_sessions",
    }
    home = twice.settings.warehouse.resolve().parent / "dagster"
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        logs = instance.all_logs(twice.first.run_id)
    finally:
        instance.dispose()
    evaluated = {
        e.dagster_event.event_specific_data.check_name: (
            e.dagster_event.event_specific_data.asset_key.to_user_string(),
            e.dagster_event.event_specific_data.passed,
        )
        for e in logs
        if e.dagster_event
        and e.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    assert {name: evaluated.get(name) for name in expected} == {
        name: (mart, True) for name, mart in expected.items()
    }
    warnings = [
        e.user_message
        for e in logs
        if e.level >= 30 and any(name in (e.user_message or "") for name in expected)
    ]
    assert warnings == []
