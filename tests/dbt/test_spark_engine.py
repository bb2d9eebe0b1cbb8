"""The same dbt project on DuckDB and on Apache Spark (local[2], one JVM): equal marts.

A generated shop is ingested into raw (DuckDB), built by dbt on DuckDB, exported to a Parquet
lake and built by dbt-spark from external tables over it. Every mart (schemas marts and
activation) must have the same row count and the same per-column aggregates on both engines
(sums of numbers, distinct counts, lengths and min/max of text and times, true counts), after
the first build and again after a second delivery of re-delivered rows (DuckDB runs its
incremental models, Spark rebuilds: docs/engines.md).
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.engine import DuckDBEngine, SparkEngine
from segmint import spark as engine
from segmint.ingest import ingest
from segmint.sample import generate
from tests.dbt.helpers import DbtProject
from tests.runs import RUNTIME_COLUMNS

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(engine.java_missing() is not None, reason=str(engine.java_missing())),
    pytest.mark.timeout(300),
]
pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (segmint[spark])")

SCHEMAS = ("marts", "activation")
# Wall-clock stamps differ between any two builds; _loaded_at comes from raw, so it is compared.
UNCOMPARABLE = RUNTIME_COLUMNS - {"_loaded_at"}
# ~500 customers (the size) over 150 days: every mart is populated (cutoffs,
# history, 90-day windows) and both rounds fit the time budget on two shared cores.
SHOP_DAYS = 150


def _aggregates(column: str, dtype: str) -> list[str]:
    """Engine-neutral aggregates of one column (the same SQL runs on DuckDB and Spark)."""
    c = f"`{column}`"
    kind = dtype.upper()
    if kind.startswith(("DECIMAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT")):
        return [f"sum({c})"]
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return [f"sum({c})"]
    if kind == "BOOLEAN":
        return [f"sum(case when {c} then 1 else 0 end)"]
    if kind in ("VARCHAR", "DATE") or kind.startswith("TIMESTAMP"):
        text = f"cast({c} as string)"
        return [f"count(distinct {c})", f"min({text})", f"max({text})", f"sum(length({text}))"]
    return [f"count({c})"]


def _normal(value: object) -> object:
    """A value as both engines' Python clients can agree on (times as datetimes)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    return value


def profiles(warehouse: Path, spark) -> dict[str, tuple[dict, dict]]:
    """{relation: (DuckDB aggregates, Spark aggregates)} of every mart."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('marts', 'activation') and table_type = 'BASE TABLE'"
            " order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if (schema, table) == ("marts", "customers_snapshot"):
                continue  # DuckDB only: needs a MERGE table format (docs/engines.md)
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            names, exprs = ["rows"], ["count(*)"]
            for column, dtype in columns:
                if column in UNCOMPARABLE:
                    continue
                for i, expr in enumerate(_aggregates(column, dtype)):
                    names.append(f"{column}[{i}]")
                    exprs.append(expr)
            sql = f"select {', '.join(exprs)} from {schema}.{table}"
            duck = con.execute(sql.replace("`", '"')).fetchone()
            sparked = spark.sql(sql).collect()[0]
            out[f"{schema}.{table}"] = (
                {n: _normal(v) for n, v in zip(names, duck, strict=True)},
                {n: _normal(v) for n, v in zip(names, sparked, strict=True)},
            )
    return out


def assert_equal_marts(warehouse: Path, spark) -> dict[str, tuple[dict, dict]]:
    found = profiles(warehouse, spark)
    assert len(found) >= 15, f"expected every mart, found {sorted(found)}"
    differences = []
    for relation, (duck, sparked) in found.items():
        for name, value in duck.items():
            other = sparked[name]
            same = (
                other == pytest.approx(value, rel=1e-9, abs=1e-9)
                if isinstance(value, float) or isinstance(other, float)
                else other == value
            )
            if not same:
                differences.append(f"{relation}.{name}: duckdb {value!r} != spark {other!r}")
    assert not differences, "\n".join(differences[:40])
    return found


def assert_models_read_the_same_frame(warehouse: Path) -> None:
    """The frame a model reads (orchestration.lib.engine: DuckDB, or Spark through Arrow)
    has the same rows, columns, values and kinds of pandas dtype on both engines (integer
    widths may differ: Spark's datediff is an int where DuckDB's is a bigint)."""
    spark_dir = os.environ[engine.SPARK_DIR_ENV]
    frames = []
    for eng in (DuckDBEngine(str(warehouse)), SparkEngine(str(warehouse), spark_dir)):
        frame = eng.read_frame("select * from marts.customer_360")
        keep = [c for c in frame.columns if c not in UNCOMPARABLE]
        frames.append(frame[keep].sort_values("customer_id").reset_index(drop=True))
    duck, sparked = frames
    assert len(duck) >= 400
    kinds = {c: (duck[c].dtype.kind, sparked[c].dtype.kind) for c in duck.columns}
    assert not {c: k for c, k in kinds.items() if k[0] != k[1]}, "dtype kinds differ"
    pd.testing.assert_frame_equal(sparked, duck, rtol=1e-9, check_dtype=False)


def redeliver(landing: Path, warehouse: Path) -> None:
    """A second delivery: corrected orders (amount, status), moved customers and events that
    arrive again later in the day (their sessions change), as new files in the landing."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, change, key in (
            (
                "orders",
                "* replace (cast(round(total_amount * 1.1, 2) as decimal(18, 2)) as total_amount,"
                " 'returned' as status)",
                "order_id",
            ),
            (
                "customers",
                "* replace ('FR' as country, updated_at + interval 1 day as updated_at)",
                "customer_id",
            ),
            ("events", "* replace (occurred_at + interval 2 hour as occurred_at)", "event_id"),
        ):
            target = landing / table / f"{table}_redelivered.parquet"
            con.execute(
                f"copy (select {change} from (select * exclude (_source_file, _source_line,"
                f" _file_hash, _loaded_at) from raw.{table} order by {key} limit 40))"
                f" to '{target}' (format parquet)"
            )


def build_both(warehouse: Path, workdir: Path, spark, seed: bool = True) -> None:
    """dbt (seed and) run on DuckDB, then the raw lake refreshed and the same on Spark (one
    target folder per engine, so a second run parses only what changed). Models and seeds
    only: the data tests run on DuckDB elsewhere (two run on Spark below)."""
    for target in ("duckdb", "spark"):
        if target == "spark":  # what each dbt step of `segmint run` does first on Spark
            SparkEngine(str(warehouse), os.environ[engine.SPARK_DIR_ENV]).before_dbt()
        project = DbtProject(warehouse, workdir / target, target=target)
        if seed:
            project.run("seed")
        project.run("run")


def test_marts_are_equal_on_duckdb_and_spark_before_and_after_a_redelivery(tmp_path: Path, spark):
    landing, warehouse = tmp_path / "landing", tmp_path / "segmint.duckdb"
    generate(landing, customers=500, days=SHOP_DAYS, seed=20, fmt="parquet")
    ingest(landing, warehouse)
    build_both(warehouse, tmp_path, spark)
    first = assert_equal_marts(warehouse, spark)
    assert_models_read_the_same_frame(warehouse)

    redeliver(landing, warehouse)
    report = ingest(landing, warehouse)
    assert report.per_table()["orders"]["rows_loaded"] == 40
    build_both(warehouse, tmp_path, spark, seed=False)  # the seeds did not change
    second = assert_equal_marts(warehouse, spark)

    # the second delivery changed what both engines published (so the comparison is not moot)
    orders_first, orders_second = first["marts.fct_orders"][0], second["marts.fct_orders"][0]
    assert orders_first["total_amount[0]"] != orders_second["total_amount[0]"]
    assert first["marts.fct_sessions"][0] != second["marts.fct_sessions"][0]

    # data tests run on Spark too (two of them here; all of them on DuckDB elsewhere)
    DbtProject(warehouse, tmp_path / "spark", target="spark").run(
        "test", "--select", "fct_orders,test_name:unique", "fct_orders,test_name:not_null"
    )
