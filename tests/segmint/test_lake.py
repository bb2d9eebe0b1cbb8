"""The raw lake Spark reads (segmint.lake) and the Spark session's configuration (no JVM)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmint import lake
from segmint import spark as engine


def test_export_raw_writes_every_source_table_as_parquet_with_json_as_text(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw; create schema _segmint; create schema marts")
        con.execute("create table raw.events (event_id varchar, properties json)")
        con.execute("""insert into raw.events values ('e1', '{"a": 1}'), ('e2', null)""")
        con.execute("create table _segmint.hash_key (ipad blob, opad blob)")
        con.execute(r"insert into _segmint.hash_key values ('\x01'::blob, '\x02'::blob)")
        con.execute("create table marts.customer_360 (customer_id varchar)")  # not a source
        con.execute("create schema ml; create table ml.churn_scores (customer_id varchar)")
        con.execute("create schema activation")
        con.execute("create table activation.audience_runs (run_id varchar)")  # export state
        con.execute("create table activation.holdout_readout (audience varchar)")  # a dbt model
    out = tmp_path / "lake"
    (out / "raw" / "events").mkdir(parents=True)
    (out / "raw" / "events" / "stale.parquet").write_text("old copy")

    assert lake.export_raw(warehouse, out) == [
        "_segmint.hash_key",
        "activation.audience_runs",
        "ml.churn_scores",
        "raw.events",
    ]

    assert sorted(p.name for p in (out / "raw" / "events").iterdir()) == ["data.parquet"]
    assert not (out / "marts").exists()
    assert not (out / "activation" / "holdout_readout").exists()
    with duckdb.connect() as con:
        events = str(out / "raw" / "events" / "data.parquet")
        types = con.execute(f"select column_type from (describe select * from '{events}')")
        assert [t for (t,) in types.fetchall()] == ["VARCHAR", "VARCHAR"]
        rows = con.execute(f"select * from '{events}' order by event_id").fetchall()
        assert rows == [("e1", '{"a": 1}'), ("e2", None)]
        key = str(out / "_segmint" / "hash_key" / "data.parquet")
        assert con.execute(f"select ipad, opad from '{key}'").fetchall() == [(b"\x01", b"\x02")]


def test_session_conf_is_the_profiles_spark_target_rendered_for_the_spark_dir(tmp_path: Path):
    conf = engine.session_conf(tmp_path / "spark")
    root = str((tmp_path / "spark").resolve())
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.warehouse.dir"] == f"{root}/tables"
    metastore = conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert f"databaseName={root}/metastore_db;" in metastore
    assert conf["spark.sql.catalogImplementation"] in ("hive", "in-memory")
