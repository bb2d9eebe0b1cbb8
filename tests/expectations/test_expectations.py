"""GX suites as code: good tables pass, each kind of breakage fails with the right severity."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from segmint.contract import RAW_META_COLUMNS, TABLES

NOW = datetime(2024, 6, 2, 0, 0, 0)


def _build_good_warehouse(path: Path) -> None:
    """Small, consistent raw/marts/ml/activation tables written by hand."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("raw", "marts", "ml"):
            con.execute(f"create schema {schema}")
        for t in TABLES.values():
            cols = ", ".join(f'"{c.name}" {c.type}' for c in (*t.columns, *RAW_META_COLUMNS))
            con.execute(f"create table raw.{t.name} ({cols})")
        meta = "'{t}.csv', i + 2, 'hash', timestamp '2024-06-01'"
        con.execute(f"""
            insert into raw.customers select 'c' || i, 'e' || i || '@x.com', null, 'Ada',
                'L', date '1980-01-01', 'f', 'DE', 'Berlin', '10115',
                timestamp '2023-01-01', 'seo', true, timestamp '2023-01-02',
                {meta.format(t="customers")} from range(20) r(i)""")
        con.execute(f"""
            insert into raw.products select 'p' || i, 'name', 'cat' || (i % 3), 'brand',
                10.0, 5.0, {meta.format(t="products")} from range(5) r(i)""")
        con.execute(f"""
            insert into raw.orders select 'o' || i, 'c' || (i % 20),
                timestamp '2024-01-01' + to_days(i::int), 'completed', 'web', 'north',
                20.0, 1.0, 'EUR', {meta.format(t="orders")} from range(50) r(i)""")
        con.execute(f"""
            insert into raw.order_items select 'o' || i, 'p' || (i % 5), 2, 10.0, 0.0,
                {meta.format(t="order_items")} from range(50) r(i)""")
        con.execute(f"""
            insert into raw.events select 'e' || i, timestamp '2024-01-01' + to_minutes(i::int),
                'page_view', 'c' || (i % 20), null, 's' || (i // 5), null, 'web', 'seo',
                '{{"a": 1}}'::json, {meta.format(t="events")} from range(100) r(i)""")
        con.execute("""
            create table marts.customer_360 as select 'c' || i as customer_id,
                sha256('c' || i) as customer_key, date '2024-05-31' as as_of_date, 40 as age,
                '35-44' as age_band, 'f' as gender, 'DE' as country, 'Berlin' as city,
                'seo' as acquisition_channel, true as marketing_consent,
                timestamp '2023-01-01' as signup_at, 500 as tenure_days,
                timestamp '2024-01-01' as first_order_at, timestamp '2024-02-01' as last_order_at,
                120 as recency_days, 3::bigint as frequency, 60.0::double as monetary,
                20.0::double as avg_order_value, 0::bigint as orders_30d, 1::bigint as orders_90d,
                2::bigint as orders_prev_90d, 20.0 as revenue_90d, 40.0 as revenue_prev_90d,
                15.5 as mean_interpurchase_days, 0.0 as cancel_rate, 0.1 as return_rate,
                0.05 as discount_share, 60.0 as historical_clv, 2 as distinct_categories,
                'cat1' as top_category, 'web' as preferred_channel, 3 as rfm_recency_score,
                3 as rfm_frequency_score, 3 as rfm_monetary_score, 333 as rfm_score,
                'loyal' as rfm_class, 1 as sessions_7d, 3 as sessions_30d, 5 as sessions_90d,
                2 as days_since_last_visit, 10 as product_views_90d, 2 as cart_adds_90d,
                0.2 as view_to_cart_rate, 0.5 as cart_to_purchase_rate, 4 as email_sends_90d,
                2 as email_opens_90d, 1 as email_clicks_90d, 0.5 as email_open_rate,
                0.25 as email_click_rate, 2 as sessions_prev_30d, 1.5 as engagement_trend,
                0.4 as cat_share_cat1
            from range(20) r(i)""")
        con.execute("""
            create table ml.churn_scores as select 'c' || i as customer_id,
                i / 20.0 as churn_probability,
                case when i < 7 then 'low' when i < 14 then 'medium' else 'high' end as risk_band,
                '["recency_days"]' as top_drivers, 90 as horizon_days, 'v1' as model_version,
                timestamp '2024-06-01' as scored_at
            from range(20) r(i)""")
        con.execute("""
            create table ml.customer_segments as select 'c' || i as customer_id,
                i % 3 as segment_id, 'seg' || (i % 3) as segment_name, 0.5 as distance,
                'v1' as model_version, timestamp '2024-06-01' as scored_at
            from range(20) r(i)""")
        con.execute("""
            create table ml.demand_forecasts as select 'category=cat' || (i % 3) as series_key,
                m.metric, (timestamp '2024-06-01' + to_days((i // 3)::int))::timestamp_ns as ds,
                10.0 as yhat, 5.0 as yhat_lower, 15.0 as yhat_upper, 'v1' as model_version
            from range(30) r(i), (values ('orders'), ('revenue')) m(metric)""")
        con.execute("""
            create table marts.customer_targeting as
            select c.*, g.segment_id, g.segment_name, s.churn_probability, s.risk_band,
                'x@y.com' as email, false as is_erased, c.marketing_consent as is_marketable
            from marts.customer_360 c join ml.churn_scores s using (customer_id)
            join ml.customer_segments g using (customer_id)""")
    finally:
        con.close()


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose every checked table is valid (module-wide, never mutated)."""
    path = tmp_path_factory.mktemp("good") / "segmint.duckdb"
    _build_good_warehouse(path)
    return path


@pytest.fixture
def broken(good_warehouse: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Copy of the good warehouse with one SQL change applied."""

    def make(sql: str) -> Path:
        path = tmp_path / "segmint.duckdb"
        shutil.copy(good_warehouse, path)
        con = duckdb.connect(str(path))
        try:
            con.execute(sql)
        finally:
            con.close()
        return path

    return make


def _failed(outcome, fragment: str):
    """The failures whose label contains a fragment."""
    return [f for f in outcome.failed if fragment in f.expectation]


# --------------------------------------------------------------------------- GX + DuckDB


def test_gx_duckdb_canary_resolves_real_metrics(good_warehouse: Path) -> None:
    """GX computes real metrics on DuckDB (persisted connection + catalog-based columns).

    If this fails after a GX, SQLAlchemy or duckdb-engine upgrade, the workaround in
    expectations/gx_duckdb.py no longer applies: metrics come back empty ("list index out of
    range") or column types are unknown. Fix that module before trusting any quality check.
    """
    import great_expectations as gx

    from expectations.gx_duckdb import DuckDBExecutionEngine, connection_string, engine_kwargs

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_segmint_duckdb(
        name="canary",
        connection_string=connection_string(str(good_warehouse)),
        kwargs=engine_kwargs(str(good_warehouse), read_only=True),
    )
    try:
        assert isinstance(source.get_execution_engine(), DuckDBExecutionEngine)
        asset = source.add_table_asset(name="orders", table_name="orders", schema_name="raw")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        E = gx.expectations
        checks = {
            "rows": E.ExpectTableRowCountToBeBetween(min_value=0),
            "max": E.ExpectColumnMaxToBeBetween(column="total_amount", min_value=0),
            "mean": E.ExpectColumnMeanToBeBetween(column="total_amount", min_value=0),
            "type": E.ExpectColumnValuesToBeOfType(column="ordered_at", type_="TIMESTAMP"),
            "nulls": E.ExpectColumnValuesToNotBeNull(column="order_id"),
        }
        results = {name: batch.validate(exp) for name, exp in checks.items()}
    finally:
        source.dispose()
    for name, result in results.items():
        assert result.success, (name, result.exception_info)
    assert results["rows"].result["observed_value"] == 50
    assert results["max"].result["observed_value"] == pytest.approx(20.0)
    assert results["mean"].result["observed_value"] == pytest.approx(20.0)
    assert results["type"].result["observed_value"] == "TIMESTAMP"
    assert results["nulls"].result["element_count"] == 50


def test_stock_gx_sql_source_still_loses_duckdb_results(good_warehouse: Path) -> None:
    """The plain "sql" data source still fails on DuckDB, so the workaround is still needed.

    If this starts failing, GX fixed DuckDB upstream: gx_duckdb.py can be simplified.
    """
    import great_expectations as gx

    from expectations.gx_duckdb import connection_string

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(
        name="stock",
        connection_string=connection_string(str(good_warehouse)),
        kwargs={"connect_args": {"read_only": True}},
    )
    try:
        asset = source.add_table_asset(name="orders", table_name="orders", schema_name="raw")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=0))
    finally:
        source.get_execution_engine().close()
        source.get_engine().dispose()
    assert not result.success
    assert "list index out of range" in str(result.exception_info)


def test_validation_releases_the_file(good_warehouse: Path, tmp_path: Path) -> None:
    """After validate() returns, nothing holds the file: a writer can open it at once."""
    from expectations import validate

    validate(good_warehouse, "raw.orders", now=NOW)
    con = duckdb.connect(str(good_warehouse))  # read-write in this same process
    con.close()


def test_validation_works_while_this_process_holds_the_writer(good_warehouse: Path) -> None:
    """In-process, validation shares an open read-write instance instead of failing."""
    from expectations import validate

    writer = duckdb.connect(str(good_warehouse))
    try:
        outcome = validate(good_warehouse, "ml.churn_scores", now=NOW)
    finally:
        writer.close()
    assert outcome.success, outcome.failed


# --------------------------------------------------------------------------- suites


def test_every_suite_tags_each_expectation_with_a_severity(good_warehouse: Path) -> None:
    """Each expectation is ERROR or WARN; key uniqueness is ERROR, drift is WARN."""
    from expectations import SUITES, Severity, SuiteContext, build_suite
    from expectations.common import severity_of

    for table in SUITES:
        ctx = SuiteContext(table=table, now=NOW, previous_row_count=100)
        suite = build_suite(table, ctx)
        assert suite.expectations, table
        for exp in suite.expectations:
            assert exp.meta["severity"] in ("ERROR", "WARN"), (table, exp)
            if (
                exp.expectation_type == "expect_table_row_count_to_be_between"
                and "previous" in (exp.meta["why"])
            ):
                assert severity_of(exp) is Severity.WARN
            if exp.expectation_type == "expect_column_values_to_be_unique":
                assert severity_of(exp) is Severity.ERROR, (table, exp.column)


@pytest.mark.parametrize(
    "table",
    [
        "raw.customers",
        "raw.products",
        "raw.orders",
        "raw.order_items",
        "raw.events",
        "marts.customer_360",
        "ml.churn_scores",
        "ml.customer_segments",
        "ml.demand_forecasts",
        "marts.customer_targeting",
    ],
)
def test_good_table_passes(good_warehouse: Path, table: str) -> None:
    """Every suite passes on consistent data."""
    from expectations import validate

    outcome = validate(good_warehouse, table, now=NOW, previous_row_count=None)
    assert outcome.success, outcome.failed
    assert not outcome.blocking_failed
    assert outcome.statistics["evaluated"] == outcome.statistics["successful"] > 5


def test_duplicate_key_is_a_blocking_error(broken) -> None:
    """A customer twice in customer_360 fails the key check with ERROR."""
    from expectations import Severity, validate

    wh = broken("insert into marts.customer_360 select * from marts.customer_360 limit 1")
    outcome = validate(wh, "marts.customer_360", now=NOW)
    (dup,) = _failed(outcome, "key (customer_id) unique")
    assert dup.severity is Severity.ERROR
    assert dup.details["unexpected_count"] == 2
    assert outcome.blocking_failed and not outcome.success


def test_duplicate_key_within_a_raw_file_is_an_error_across_files_it_is_a_redelivery(
    broken,
) -> None:
    """Raw: the same key twice in one file is an ingest bug (ERROR); the same key in a later
    file is a re-delivery (an updated order) that staging resolves: no warning."""
    from expectations import Severity, validate

    wh = broken(
        "insert into raw.orders select * replace ('orders_2.csv' as _source_file) "
        "from raw.orders where order_id = 'o1';"
        "insert into raw.orders select * from raw.orders where order_id = 'o2'"
    )
    outcome = validate(wh, "raw.orders", now=NOW)
    (within,) = _failed(outcome, "within each source file")
    assert within.severity is Severity.ERROR and within.details["observed_value"] == 1
    assert not _failed(outcome, "across files")
    assert [f.expectation for f in outcome.failed] == [within.expectation]


def test_clean_shop_with_absent_columns_and_some_orphans_raises_no_warning(broken) -> None:
    """A legitimate export: no signup dates or countries exported (all null), an empty
    events file, a few lines of discontinued products, a guest order, a voucher larger than
    a small order. Nothing there is a defect, so no raw suite warns."""
    from expectations import validate

    wh = broken(
        "update raw.customers set signup_at = null, country = null;"
        "delete from raw.events;"
        "update raw.order_items set product_id = 'gone' where order_id = 'o1';"
        "update raw.orders set customer_id = 'guest-1' where order_id = 'o2';"
        "update raw.orders set discount_amount = 25 where order_id = 'o3'"
    )
    for table in ("raw.customers", "raw.products", "raw.orders", "raw.order_items", "raw.events"):
        outcome = validate(wh, table, now=NOW, previous_row_count=None)
        assert outcome.success, (table, [f.line() for f in outcome.failed])


def test_a_large_share_of_orphans_warns_with_what_was_observed(broken) -> None:
    """When most order lines name products the catalogue does not have, the files do not
    belong together: a WARN whose line says the share and counts observed."""
    from expectations import Severity, validate

    wh = broken("update raw.order_items set product_id = 'x' || product_id where order_id < 'o3'")
    outcome = validate(wh, "raw.order_items", now=NOW)
    (orphan,) = _failed(outcome, "product_id found in raw.products")
    assert orphan.severity is Severity.WARN and not outcome.blocking_failed
    n = (
        duckdb.connect(str(wh), read_only=True)
        .execute("select count(*) from raw.order_items where product_id like 'x%'")
        .fetchone()[0]
    )
    assert orphan.observed == f"{100 * n / 50:.3g}% of rows ({n} of 50)"
    assert f"WARN: {orphan.expectation} — observed {orphan.observed}" in outcome.summary()


def test_probability_out_of_range_is_a_blocking_error(broken) -> None:
    """churn_probability outside [0, 1] fails with ERROR and reports the value."""
    from expectations import Severity, validate

    wh = broken("update ml.churn_scores set churn_probability = 1.7 where customer_id = 'c19'")
    outcome = validate(wh, "ml.churn_scores", now=NOW)
    (prob,) = _failed(outcome, "churn_probability is a probability")
    assert prob.severity is Severity.ERROR
    assert prob.details["unexpected_count"] == 1
    assert prob.details["partial_unexpected_list"] == [1.7]
    assert outcome.blocking_failed


def test_unknown_risk_band_is_a_blocking_error(broken) -> None:
    """risk_band outside (low, medium, high) fails with ERROR."""
    from expectations import Severity, validate

    wh = broken("update ml.churn_scores set risk_band = 'extreme' where customer_id = 'c19'")
    outcome = validate(wh, "ml.churn_scores", now=NOW)
    (band,) = _failed(outcome, "risk_band in")
    assert band.severity is Severity.ERROR


def test_negative_forecast_is_a_blocking_error(broken) -> None:
    """A negative yhat fails >= 0 and the interval order, both ERROR."""
    from expectations import Severity, validate

    wh = broken("update ml.demand_forecasts set yhat = -1 where ds = timestamp '2024-06-01'")
    outcome = validate(wh, "ml.demand_forecasts", now=NOW)
    (neg,) = _failed(outcome, "yhat >= 0")
    (order,) = _failed(outcome, "yhat_lower <= yhat <= yhat_upper")
    assert neg.severity is order.severity is Severity.ERROR
    assert neg.details["unexpected_count"] == 6
    assert order.details["observed_value"] == 6
    assert outcome.blocking_failed


def test_duplicate_forecast_row_is_a_blocking_error(broken) -> None:
    """The same series, metric and day twice in one model version fails with ERROR."""
    from expectations import Severity, validate

    wh = broken("insert into ml.demand_forecasts select * from ml.demand_forecasts limit 1")
    outcome = validate(wh, "ml.demand_forecasts", now=NOW)
    (dup,) = _failed(outcome, "key (series_key, metric, ds, model_version) unique")
    assert dup.severity is Severity.ERROR


def test_churn_scores_may_keep_several_runs_but_one_row_per_customer_per_run(broken) -> None:
    """A second scoring run appended is fine; a customer twice in one run is an ERROR."""
    from expectations import Severity, validate

    appended = broken(
        "insert into ml.churn_scores select * replace "
        "(timestamp '2024-06-01 06:00' as scored_at) from ml.churn_scores"
    )
    assert validate(appended, "ml.churn_scores", now=NOW).success
    doubled = broken("insert into ml.churn_scores select * from ml.churn_scores limit 1")
    outcome = validate(doubled, "ml.churn_scores", now=NOW)
    (dup,) = _failed(outcome, "customer_id unique per scoring run")
    assert dup.severity is Severity.ERROR


def test_marketable_without_consent_is_a_blocking_error(broken) -> None:
    """customer_targeting must never mark a non-consenting customer as marketable."""
    from expectations import Severity, validate

    wh = broken(
        "update marts.customer_targeting set marketing_consent = false where customer_id = 'c3'"
    )
    outcome = validate(wh, "customer_targeting", now=NOW)
    (rule,) = _failed(outcome, "only consented, non-erased customers are marketable")
    assert rule.severity is Severity.ERROR
    assert outcome.table == "marts.customer_targeting"


def test_future_date_is_a_blocking_error(broken) -> None:
    """An order timestamp after now (+ clock skew) fails with ERROR."""
    from expectations import Severity, validate

    wh = broken("update raw.orders set ordered_at = timestamp '2024-06-05' where order_id = 'o3'")
    outcome = validate(wh, "raw.orders", now=NOW)
    (future,) = _failed(outcome, "ordered_at not in the future")
    assert future.severity is Severity.ERROR
    assert future.details["unexpected_count"] == 1
    assert outcome.blocking_failed


def test_missing_column_is_a_blocking_error(broken) -> None:
    """A table without a required column fails the schema check with ERROR."""
    from expectations import Severity, validate

    wh = broken("alter table ml.customer_segments drop column distance")
    outcome = validate(wh, "ml.customer_segments", now=NOW)
    (schema,) = _failed(outcome, "required columns present")
    assert schema.severity is Severity.ERROR
    assert schema.details["details"]["mismatched"]["missing"] == ["distance"]
    assert outcome.blocking_failed


def test_wrong_column_type_is_a_blocking_error(broken) -> None:
    """A raw column with a type other than the contract's fails with ERROR."""
    from expectations import Severity, validate

    wh = broken("alter table raw.order_items alter quantity type varchar")
    outcome = validate(wh, "raw.order_items", now=NOW)
    (typed,) = _failed(outcome, "quantity is INTEGER")
    assert typed.severity is Severity.ERROR
    assert typed.details["observed_value"] == "VARCHAR"


def test_missing_table_is_a_blocking_error(broken) -> None:
    """A checked table that does not exist blocks publish."""
    from expectations import validate

    wh = broken("drop table marts.customer_targeting")
    outcome = validate(wh, "customer_targeting", now=NOW)
    assert outcome.blocking_failed
    assert outcome.failed[0].expectation == "table_exists"


def test_warn_only_failures_do_not_block(good_warehouse: Path) -> None:
    """Row-count drift against the previous run is a WARN: reported, not blocking."""
    from expectations import Severity, validate

    outcome = validate(good_warehouse, "raw.orders", now=NOW, previous_row_count=400)
    assert not outcome.success
    assert not outcome.blocking_failed
    (drift,) = outcome.failed
    assert drift.severity is Severity.WARN
    assert drift.details["observed_value"] == 50
    assert outcome.warnings == [drift] and outcome.errors == []


def test_row_count_history_feeds_the_next_run(good_warehouse: Path, tmp_path: Path) -> None:
    """With a history folder, each run compares against the count the previous run saw."""
    from expectations import read_previous_row_count, record_row_count, validate

    history = tmp_path / "history"
    first = validate(good_warehouse, "raw.events", now=NOW, history_dir=history)
    assert first.success and first.statistics["previous_row_count"] is None
    assert read_previous_row_count(history, "raw.events") == 100

    record_row_count(history, "raw.events", 1000, NOW)
    second = validate(good_warehouse, "raw.events", now=NOW, history_dir=history)
    assert second.statistics["previous_row_count"] == 1000
    assert [f.severity.value for f in second.failed] == ["WARN"]
    assert not second.blocking_failed


def test_data_docs_index_is_generated(good_warehouse: Path, tmp_path: Path) -> None:
    """Data Docs HTML lands in docs_dir/<table>/index.html and names the suite."""
    from expectations import validate

    docs = tmp_path / "docs"
    outcome = validate(good_warehouse, "ml.demand_forecasts", now=NOW, docs_dir=docs)
    assert outcome.docs_index == docs / "ml.demand_forecasts" / "index.html"
    assert outcome.docs_index.is_file()
    html = outcome.docs_index.read_text()
    assert "ml.demand_forecasts" in html
    assert list((docs / "ml.demand_forecasts").rglob("validations/**/*.html"))
    assert outcome.metadata()["data_docs"] == str(outcome.docs_index)


def test_outcome_metadata_is_json_safe(broken) -> None:
    """Outcome metadata (for Dagster) serialises and lists failures by severity."""
    import json

    from expectations import validate

    wh = broken("update ml.churn_scores set churn_probability = -0.5 where customer_id = 'c0'")
    outcome = validate(wh, "ml.churn_scores", now=NOW)
    meta = json.loads(json.dumps(outcome.metadata()))
    assert meta["table"] == "ml.churn_scores"
    assert any("churn_probability" in line for line in meta["failed_errors"])
    assert "FAILED" in meta["summary"]


def test_unknown_table_name_is_rejected(good_warehouse: Path) -> None:
    """Asking for a table without a suite is a clear error."""
    from expectations import validate

    with pytest.raises(KeyError, match="no suite for table"):
        validate(good_warehouse, "marts.nope", now=NOW)


def test_validation_never_waits_on_another_process_writer(good_warehouse: Path) -> None:
    """While another process holds the writer lock, validate() fails fast and says why."""
    import subprocess
    import sys

    from expectations import WarehouseLockedError, validate

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(60)",
            str(good_warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseLockedError, match="writer holds it"):
            validate(good_warehouse, "raw.orders", now=NOW)
    finally:
        holder.kill()
        holder.wait()


def test_every_contract_table_has_a_suite_and_the_list_needs_no_gx() -> None:
    """SUITES covers every raw contract table; reading it does not load Great Expectations."""
    from segmint.contract import TABLES

    probe = (
        "import sys, expectations; "
        "print(','.join(expectations.SUITES)); "
        "print('great_expectations' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    names, gx_loaded = proc.stdout.split()
    assert {f"raw.{t}" for t in TABLES} <= set(names.split(","))
    assert gx_loaded == "False"
