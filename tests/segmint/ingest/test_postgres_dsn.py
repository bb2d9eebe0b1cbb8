"""The source DSN: read from its env var, parsed in either libpq form, never echoed."""

from __future__ import annotations

import pytest

from segmint.ingest import IngestError
from segmint.ingest.postgres import connection
from segmint.settings import PostgresSource, Settings

SECRET = "s3cr3t-Zq9"


def _source() -> PostgresSource:
    return PostgresSource(dsn_env="T_DSN", tables={"orders": {"cursor": "updated_at"}})


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://reader:{SECRET}@db.internal:6543/shop?sslmode=require",
        f"host=db.internal port=6543 dbname=shop user=reader password={SECRET} sslmode=require",
    ],
)
def test_both_dsn_forms_give_one_url_and_a_label_without_the_password(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_DSN", dsn)
    conn = connection(_source())
    url = conn.url
    assert (url.drivername, url.username, url.host, url.port, url.database) == (
        "postgresql+psycopg",
        "reader",
        "db.internal",
        6543,
        "shop",
    )
    assert url.password == SECRET and dict(url.query) == {"sslmode": "require"}
    assert conn.label == "postgres reader@db.internal:6543/shop"
    assert SECRET not in conn.label + repr(url)
    assert conn.redact(f"failed for {SECRET}\nsecond line") == "failed for ***"


def test_a_bad_port_or_several_hosts_reach_libpq_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("T_DSN", "host=a,b port=5432,x dbname=shop user=reader")
    url = connection(_source()).url
    assert (url.host, url.port, dict(url.query)) == (None, None, {"host": "a,b", "port": "5432,x"})


def test_an_unparseable_dsn_is_named_by_its_env_var_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DSN", f"host=x password={SECRET} 'unterminated")
    with pytest.raises(IngestError) as info:
        connection(_source())
    assert str(info.value) == "T_DSN is not a valid Postgres DSN"


def test_the_source_setting_names_contract_tables_and_needs_orders() -> None:
    with pytest.raises(ValueError, match="shipments not contract table"):
        Settings(source={"tables": {"orders": {}, "shipments": {}}})
    with pytest.raises(ValueError, match="must name orders"):
        Settings(source={"tables": {"customers": {"cursor": "updated_at"}}})
    s = Settings(source={"tables": {"orders": {"table": "shop_orders", "cursor": "updated_at"}}})
    assert s.source.tables["orders"].table == "shop_orders"
    assert s.source.dsn_env == "SEGMINT_SOURCE_DSN" and s.source.db_schema == "public"


def test_from_postgres_without_a_source_setting_says_which_setting(tmp_path) -> None:
    from segmint.cli import _ingest_postgres
    from segmint.errors import SegmintError

    with pytest.raises(SegmintError, match="needs the `source` setting"):
        _ingest_postgres(Settings(warehouse=tmp_path / "w.duckdb"), None)
    with pytest.raises(SegmintError, match="not both"):
        _ingest_postgres(Settings(source={"tables": {"orders": {}}}), tmp_path)


def test_a_run_without_landing_folder_but_with_a_source_is_not_refused(tmp_path) -> None:
    from segmint.errors import SegmintError
    from segmint.preflight import check_run
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, tmp_path / "no_landing")
    with pytest.raises(SegmintError, match="landing folder not found"):
        check_run(settings, explicit_landing=False)
    with_source = settings.model_copy(update={"source": _source()})
    notes = check_run(with_source, explicit_landing=False)
    assert any("ingesting from Postgres" in n for n in notes)


@pytest.mark.parametrize("first", ["dlt_source", "dlt_pipeline", "postgres_assets"])
def test_dlt_telemetry_stays_off_whatever_dlt_builds_first(first: str, tmp_path) -> None:
    """dlt starts its anonymous telemetry once per process, when the first source or
    pipeline is built (the Dagster definitions build the source first): a fresh process
    per case, so another test's import order cannot hide it."""
    import os
    import subprocess
    import sys

    build = {
        "dlt_source": "pg.dlt_source(eng, src)",
        "dlt_pipeline": "pg.dlt_pipeline(wh)",
        "postgres_assets": "postgres_assets(src, wh)",
    }[first]
    code = f"""
import sqlalchemy
from pathlib import Path
from segmint.ingest import postgres as pg
from segmint.settings import PostgresSource
from orchestration.defs.ingest.postgres import postgres_assets
src = PostgresSource(dsn_env="T_DSN", tables={{"orders": {{"cursor": "updated_at"}}}})
eng = sqlalchemy.create_engine("postgresql+psycopg://")
wh = Path({str(tmp_path)!r}) / "segmint.duckdb"
{build}
from dlt.common.runtime import anon_tracker
print(anon_tracker._ANON_TRACKER_ENDPOINT)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTIME__")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "None", out.stdout + out.stderr
