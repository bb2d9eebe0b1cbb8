"""Ingest from an operational Postgres (dlt) against the real test server: the same raw
tables and customer_360 as the same data from files, incremental by cursor, bad rows in
quarantine with reasons, crash safety, and no password in any log, event or file."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from segmint.contract import TABLES
from segmint.ingest import ingest
from segmint.ingest.batches import ingest_postgres, load_batches, pending_batches
from segmint.ingest.postgres import extract, source_root
from tests.dbt.helpers import DbtProject
from tests.postgres_server import postgres_server
from tests.segmint.ingest.pgsource import PASSWORD, Seeded, seed, source, write_files

pytestmark = pytest.mark.postgres

SAMPLE = {"customers": 250, "days": 150, "seed": 11, "dirt_rate": 0.0}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    from segmint.sample import generate

    root = tmp_path_factory.mktemp("pgsource")
    generate(root / "generated", **SAMPLE)
    files = write_files(root / "generated", root / "files")
    with postgres_server() as server:
        yield seed(server, files)


@pytest.fixture
def dsn_env(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TEST_SOURCE_DSN", seeded.dsn)
    return "TEST_SOURCE_DSN"


def counts(warehouse: Path, schema: str = "raw") -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {schema}.{t}").fetchone()[0] for t in TABLES}


def everything_in(root: Path) -> bytes:
    """Every byte of every file under root (dlt's state, trace, batches, the warehouse)."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.fixture(scope="module")
def first_ingest(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory):
    """The seeded Postgres ingested once (module-wide; later tests change the source)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TEST_SOURCE_DSN", seeded.dsn)
    warehouse = tmp_path_factory.mktemp("from_pg") / "warehouse" / "segmint.duckdb"
    try:
        report = ingest_postgres(source(), warehouse)
    finally:
        mp.undo()
    return warehouse, report


@pytest.fixture(scope="module")
def from_files(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data ingested from its CSV files."""
    warehouse = tmp_path_factory.mktemp("from_files") / "segmint.duckdb"
    ingest(seeded.files, warehouse)
    return warehouse


def test_postgres_ingest_loads_the_same_raw_rows_as_files(from_files: Path, first_ingest) -> None:
    pg_wh, report = first_ingest
    expected = counts(from_files)
    assert expected["orders"] > 300 and expected["events"] > 1000
    assert counts(pg_wh) == expected
    assert counts(pg_wh, "quarantine") == dict.fromkeys(TABLES, 0)
    assert {f.table for f in report.files} == set(TABLES)
    for f in report.files:
        assert f.status == "loaded"
        assert f.rows_read == f.rows_loaded + f.rows_quarantined
        assert f.file.startswith(f"postgres:shop.{f.table}/")
    with duckdb.connect(str(pg_wh), read_only=True) as con:
        ledger = con.execute(
            "select table_name, sum(rows_read), sum(rows_loaded + rows_quarantined) "
            "from raw.load_ledger group by 1"
        ).fetchall()
    assert {t: (r, lq) for t, r, lq in ledger} == {t: (n, n) for t, n in expected.items()}
    assert not pending_batches(pg_wh, source()), "loaded batches are removed"


def test_postgres_ingest_gives_the_same_customer_360_as_files(
    from_files: Path, first_ingest, tmp_path: Path
) -> None:
    # One dbt folder for both: the second build reuses the first one's parse.
    projects = [DbtProject(from_files, tmp_path), DbtProject(first_ingest[0], tmp_path)]
    for project in projects:
        project.build("--select", "+customer_360", "--exclude", "resource_type:test", "--quiet")
    files, pg = (p.checksum("marts.customer_360") for p in projects)
    assert files[0] == SAMPLE["customers"]
    assert pg == files


def _by_table(report) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for f in report.files:
        if f.status == "loaded":
            r, lo, q = out.get(f.table, (0, 0, 0))
            out[f.table] = (r + f.rows_read, lo + f.rows_loaded, q + f.rows_quarantined)
    return out


def test_second_ingest_loads_only_inserted_and_updated_rows(
    seeded: Seeded, first_ingest, dsn_env: str
) -> None:
    warehouse, _ = first_ingest
    before = counts(warehouse)
    seeded.execute(
        "insert into shop.orders select 'ON' || g, customer_id, localtimestamp - interval '1 hour',"
        " 'completed', channel, store_region, 10.00, 0, currency, localtimestamp"
        " from shop.orders, generate_series(1, 3) g where order_id = (select min(order_id)"
        " from shop.orders)"
    )
    seeded.execute(
        "update shop.orders set status = 'returned', updated_at = localtimestamp"
        " where order_id in (select order_id from shop.orders where order_id not like 'ON%'"
        " order by order_id limit 2)"
    )
    seeded.execute(
        "update shop.customers set marketing_consent = false, updated_at = localtimestamp"
        " where customer_id = (select min(customer_id) from shop.customers)"
    )
    report = ingest_postgres(source(), warehouse)
    assert _by_table(report) == {"orders": (5, 5, 0), "customers": (1, 1, 0)}
    # Tables without a cursor are read whole; unchanged, their batch is already loaded.
    assert {f.table for f in report.files if f.status == "skipped_already_loaded"} == {
        "products",
        "fx_rates",
    }
    after = counts(warehouse)
    assert after == {**before, "orders": before["orders"] + 5, "customers": before["customers"] + 1}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        latest = con.execute(
            "select status from raw.orders qualify row_number() over (partition by order_id"
            " order by _loaded_at desc) = 1 and order_id in (select order_id from raw.orders"
            " group by 1 having count(*) > 1)"
        ).fetchall()
    assert latest == [("returned",), ("returned",)]
    again = ingest_postgres(source(), warehouse)
    assert _by_table(again) == {}
    assert counts(warehouse) == after


def test_bad_source_rows_land_in_quarantine_with_reasons(
    seeded: Seeded, first_ingest, dsn_env: str
) -> None:
    warehouse, _ = first_ingest
    seeded.execute(
        "insert into shop.orders (order_id, customer_id, ordered_at, status, total_amount,"
        " discount_amount, currency, updated_at) values"
        " ('OBAD1', 'C0000001', localtimestamp - interval '1 hour', 'completed', -5.00, 0,"
        "  'EUR', localtimestamp),"
        " ('OBAD2', 'C0000001', localtimestamp - interval '1 hour', 'lost', 5.00, 0, 'EUR',"
        "  localtimestamp)"
    )
    seeded.execute(
        "insert into shop.order_items select 'OBAD2', product_id, 1, unit_price, 0,"
        " localtimestamp from shop.products, generate_series(1, 2)"
        " where product_id = (select min(product_id) from shop.products)"
    )
    report = ingest_postgres(source(), warehouse)
    assert _by_table(report) == {"orders": (2, 0, 2), "order_items": (2, 1, 1)}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = dict(
            con.execute(
                "select order_id, _reason from quarantine.orders where order_id like 'OBAD%'"
            ).fetchall()
        )
        (dup,) = con.execute(
            "select _reason from quarantine.order_items where order_id = 'OBAD2'"
        ).fetchone()
        source_file = con.execute(
            "select distinct _source_file from quarantine.orders where order_id like 'OBAD%'"
        ).fetchall()
    assert "negative_value:total_amount" in reasons["OBAD1"]
    assert "unknown_enum:status" in reasons["OBAD2"]
    assert "duplicate_key" in dup
    assert source_file[0][0].startswith("postgres:shop.orders/")


def _source_counts(seeded: Seeded) -> dict[str, int]:
    import psycopg

    with psycopg.connect(seeded.server.dsn) as conn:
        return {t: conn.execute(f"select count(*) from shop.{t}").fetchone()[0] for t in TABLES}


def _landed(warehouse: Path) -> dict[str, int]:
    raw, quarantined = counts(warehouse), counts(warehouse, "quarantine")
    return {t: raw[t] + quarantined[t] for t in TABLES}


def test_a_crash_between_extract_and_commit_loses_and_doubles_nothing(
    seeded: Seeded, dsn_env: str, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    extract(source(), warehouse)  # dlt's cursors advance; then the process "dies"
    batches = pending_batches(warehouse, source())
    assert {t for t, _ in batches} == set(TABLES)
    aside = tmp_path / "aside"
    shutil.copytree(source_root(warehouse) / "extract", aside)
    ingest_postgres(source(), warehouse)  # the next ingest loads what the crash left
    assert _landed(warehouse) == _source_counts(seeded)
    # A crash after the commit but before the batches were removed: the same files again.
    shutil.copytree(aside, source_root(warehouse) / "extract", dirs_exist_ok=True)
    replay = load_batches(warehouse, source())
    assert {f.status for f in replay.files} == {"skipped_already_loaded"}
    assert _landed(warehouse) == _source_counts(seeded)
    assert not pending_batches(warehouse, source())
    # Files of loads dlt never completed: an older one (a load dagster-dlt dropped, its rows
    # read again since) moves aside, a newer one (being written) waits; neither loads.
    orders = source_root(warehouse) / "extract" / "batches" / "orders"
    one = next((aside / "batches" / "orders").glob("*.parquet"))
    shutil.copy(one, orders / "1000000000.5.dropped.parquet")
    shutil.copy(one, orders / "9999999999.5.writing.parquet")
    assert not load_batches(warehouse, source()).files
    assert _landed(warehouse) == _source_counts(seeded)
    orphaned = source_root(warehouse) / "orphaned" / "orders"
    assert [p.name for p in orphaned.glob("*")] == ["1000000000.5.dropped.parquet"]
    assert [p.name for p in orders.glob("*.parquet")] == ["9999999999.5.writing.parquet"]


def test_the_dsn_password_never_reaches_logs_output_or_files(
    seeded: Seeded, dsn_env: str, tmp_path: Path, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("dlt").setLevel(logging.DEBUG)
    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    report = ingest_postgres(source(), warehouse)
    assert report.rows_read > 1000
    out, err = capfd.readouterr()
    assert PASSWORD not in caplog.text + out + err
    assert PASSWORD.encode() not in everything_in(tmp_path)
    messages = " ".join(f.message + f.file for f in report.files)
    assert PASSWORD not in messages
    from dlt.common.runtime import anon_tracker

    assert anon_tracker._ANON_TRACKER_ENDPOINT is None, "dlt's telemetry stays off"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unset", "the source DSN is not set: export TEST_SOURCE_DSN="),
        ("unreachable", "cannot read the source postgres segmint_reader@127.0.0.1:"),
        ("wrong_password", 'password authentication failed for user "segmint_reader"'),
        ("missing_table", "table shop.no_such_products (for products) not found"),
        ("missing_cursor", "shop.orders has no cursor column changed_at"),
    ],
)
def test_source_problems_are_one_clear_line_without_the_password(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str, expected: str
) -> None:
    from segmint.ingest import IngestError
    from segmint.settings import SourceTable

    wrong = "Wrong-pw-77c1"
    dsn = {
        "unset": "",
        "unreachable": seeded.dsn.replace(f":{seeded.server.port}/", f":{_free_port()}/"),
        "wrong_password": seeded.dsn.replace(PASSWORD, wrong),
    }.get(case, seeded.dsn)
    monkeypatch.setenv("TEST_SOURCE_DSN", dsn)
    changes = {
        "missing_table": {"products": SourceTable(table="no_such_products")},
        "missing_cursor": {"orders": SourceTable(cursor="changed_at")},
    }.get(case, {})
    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    with pytest.raises(IngestError) as info:
        ingest_postgres(source(**changes), warehouse)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert PASSWORD not in message and wrong not in message
    assert not warehouse.exists(), "nothing is written before the source checks pass"


def test_cli_ingest_from_postgres_reports_a_refused_login_without_traceback(
    seeded: Seeded, tmp_path: Path
) -> None:
    from tests.segmint.clirun import segmint

    wrong = "Wrong-pw-77c1"
    config = tmp_path / "segmint.yaml"
    config.write_text(
        "source:\n  dsn_env: SHOP_DSN\n  db_schema: shop\n  tables:\n"
        "    orders: {cursor: updated_at}\n    customers: {cursor: updated_at}\n"
    )
    proc = segmint(
        "ingest", "--from-postgres", cwd=tmp_path, SHOP_DSN=seeded.dsn.replace(PASSWORD, wrong)
    )
    assert proc.returncode == 2, proc.stderr
    assert "password authentication failed" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    proc = segmint("ingest", "--from-postgres", cwd=tmp_path, SHOP_DSN=seeded.dsn)
    assert proc.returncode == 0, proc.stderr
    assert "orders" in proc.stdout and "loaded" in proc.stdout
    assert PASSWORD not in proc.stdout + proc.stderr
    with duckdb.connect(str(tmp_path / "warehouse" / "segmint.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone()[0] > 300
        assert con.execute("select count(*) from raw.products").fetchone()[0] == 0


def test_dagster_dlt_assets_extract_and_raw_tables_load_without_the_password_in_events(
    seeded: Seeded, dsn_env: str, tmp_path: Path, caplog, capfd
) -> None:
    import dagster as dg
    from dagster_dlt import DagsterDltResource

    from orchestration.defs.ingest.definitions import defs
    from orchestration.lib.resources import WarehouseResource
    from tests.conftest import make_settings

    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, tmp_path / "no_landing", source=source())
    assets = defs(settings).assets
    extract_keys = {dg.AssetKey(["postgres", t]) for t in TABLES}
    by_name = {a.node_def.name: a for a in assets if isinstance(a, dg.AssetsDefinition)}
    assert by_name["postgres_extract"].keys == extract_keys
    deps = by_name["raw_tables"].asset_deps
    for t in TABLES:
        assert dg.AssetKey(["postgres", t]) in deps[dg.AssetKey(["raw", t])]
    instance = dg.DagsterInstance.ephemeral()

    def orders_read() -> tuple[int, str]:
        result = dg.materialize(
            [by_name["postgres_extract"], by_name["raw_tables"]],
            resources={
                "warehouse": WarehouseResource.from_settings(settings),
                "dlt": DagsterDltResource(),
            },
            instance=instance,
        )
        assert result.success
        raw = {
            m.asset_key: m.metadata for m in result.asset_materializations_for_node("raw_tables")
        }
        logs = " ".join(repr(e) for e in instance.all_logs(result.run_id))
        return raw[dg.AssetKey(["raw", "orders"])]["rows_read"].value, logs

    read, logs = orders_read()
    assert read == _source_counts(seeded)["orders"]
    assert _landed(settings.warehouse) == _source_counts(seeded)
    # dagster-dlt drops dlt's local state each run: the cursor comes back from the batches
    # folder (dlt's destination), so the next run reads only the new order.
    seeded.execute(
        "insert into shop.orders select 'ODAG1', customer_id, ordered_at, status, channel,"
        " store_region, total_amount, discount_amount, currency, localtimestamp"
        " from shop.orders where order_id = (select min(order_id) from shop.orders)"
    )
    read, more_logs = orders_read()
    assert read == 1
    assert _landed(settings.warehouse) == _source_counts(seeded)
    logs += more_logs
    out, err = capfd.readouterr()
    assert "postgres_extract" in logs
    assert PASSWORD not in logs + caplog.text + out + err
    assert PASSWORD.encode() not in everything_in(tmp_path)


def test_an_erased_customer_updated_in_postgres_stays_out(
    seeded: Seeded, dsn_env: str, tmp_path: Path
) -> None:
    from segmint.erasure import forget
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, tmp_path / "no_landing")
    ingest_postgres(source(), settings.warehouse)
    erased = "C0000002"
    forget(settings, customer_id=erased, live_runs=lambda: [])
    seeded.execute(
        "update shop.customers set city = 'Elsewhere', updated_at = localtimestamp"
        " where customer_id = %s",
        [erased],
    )
    report = ingest_postgres(source(), settings.warehouse)
    assert report.rows_suppressed == 1
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert not con.execute(
            "select count(*) from raw.customers where customer_id = ?", [erased]
        ).fetchone()[0]
        (reason,) = con.execute(
            "select _reason from quarantine.customers where _reason like '%erased%'"
        ).fetchone()
        assert "Elsewhere" not in str(con.execute("select * from quarantine.customers").fetchall())
    assert "erased_customer" in reason


def test_a_crash_inside_dlt_after_extract_is_finished_by_the_next_ingest(
    seeded: Seeded, dsn_env: str, tmp_path: Path
) -> None:
    from segmint.ingest import postgres as pg

    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    conn = pg.connection(source())
    eng = pg.engine(conn)
    try:
        # dlt extracted but never normalized or loaded: the process "died" with a pending
        # load package and no batch file. However dlt resumes (it finishes the package, or
        # re-reads its rows when the package is dropped), every row lands exactly once.
        pg.dlt_pipeline(warehouse).extract(pg.dlt_source(eng, source()))
    finally:
        eng.dispose()
    assert not pending_batches(warehouse, source())
    ingest_postgres(source(), warehouse)
    assert _landed(warehouse) == _source_counts(seeded)
