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
