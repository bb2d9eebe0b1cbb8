"""The engine resource: the models' reads and writes give the same frames on DuckDB and on
Spark (the lake), a failed write changes nothing, and what exports and checks copy back."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.engine import DuckDBEngine, SparkEngine
from segmint import spark as engine

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(engine.java_missing() is not None, reason=str(engine.java_missing())),
    pytest.mark.timeout(120),
]
pytest.importorskip("pyspark", reason="pyspark is not installed (segmint[spark])")


def _scores(n: int, offset: float = 0.0) -> pd.DataFrame:
    """A model output with every kind of column the models write."""
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "rank": list(range(n)),
            "probability": [i / 7 + offset for i in range(n)],
            "flag": [i % 2 == 0 for i in range(n)],
            "scored_at": pd.to_datetime(["2026-01-02 03:04:05.123456"] * n),  # ns in pandas
            "cutoff": [date(2026, 1, 1)] * n,
            "drivers": [{"recency": i, "why": ["a", "b"]} for i in range(n)],
        }
    )


def _run(model: str, extra: dict | None = None) -> pd.DataFrame:
    row = {"model": model, "model_version": "v1", "trained_at": datetime(2026, 1, 2, 3, 4, 5)}
    return pd.DataFrame([{**row, **(extra or {})}])


def _engines(tmp_path: Path, spark_dir: Path) -> tuple[DuckDBEngine, SparkEngine]:
    db = tmp_path / "segmint.duckdb"
    duckdb.connect(str(db)).close()
    return DuckDBEngine(str(db)), SparkEngine(str(db), str(spark_dir))


def _read(eng, sql: str) -> pd.DataFrame:
    """Rows in customer order; timestamps as ns: a pandas (ns) timestamp that DuckDB keeps as
    TIMESTAMP_NS is microseconds in Parquet for Spark (the one type that differs)."""
    frame = eng.read_frame(sql).sort_values("customer_id").reset_index(drop=True)
    for col in frame.columns:
        if str(frame[col].dtype).startswith("datetime64"):
            frame[col] = frame[col].astype("datetime64[ns]")
    return frame


def test_models_read_back_what_they_wrote_the_same_on_both_engines(tmp_path, spark) -> None:
    duck, sparked = _engines(tmp_path, tmp_path / "spark")
    for eng in (duck, sparked):
        assert eng.read_optional("ml", "engine_scores") is None
        eng.write_tables({"ml.engine_scores": _scores(5)}, append={"ml.model_runs": _run("a")})
        # a second run replaces the scores and appends a run with a column the first lacked
        eng.write_tables(
            {"ml.engine_scores": _scores(4, 1.0)},
            append={"ml.model_runs": _run("b", {"decision": json.dumps({"kept": True})})},
        )
    sql = "select * from ml.engine_scores"
    on_duck, on_spark = _read(duck, sql), _read(sparked, sql)
    pd.testing.assert_frame_equal(on_spark, on_duck)  # same values, same pandas dtypes
    assert len(on_spark) == 4 and on_spark["probability"].min() == 1.0
    assert json.loads(on_spark["drivers"][1]) == {"recency": 1, "why": ["a", "b"]}
    assert str(on_spark["scored_at"].dtype).startswith("datetime64")
    assert on_spark["scored_at"][0] == pd.Timestamp("2026-01-02 03:04:05.123456")
    # appended runs: a column the first run lacked is null in its row, as DuckDB leaves it
    sql = "select model, cast(decision as string) as decision from ml.model_runs order by model"
    runs = sparked.read_frame(sql)
    pd.testing.assert_frame_equal(runs, duck.read_frame(sql.replace("string", "varchar")))
    assert runs["model"].tolist() == ["a", "b"]
    assert runs["decision"].isna().tolist() == [True, False]


def test_a_failed_write_on_spark_leaves_every_table_as_it_was(tmp_path, spark, monkeypatch) -> None:
    from orchestration.lib import engine as module

    _, sparked = _engines(tmp_path, tmp_path / "spark")
    sparked.write_tables({"ml.engine_a": _scores(3), "ml.engine_b": _scores(3)})
    real, calls = module._spark_columns, []

    def second_fails(relation):  # the disk fills while the second table is written
        calls.append(relation)
        if len(calls) == 2:
            raise OSError("no space left on device")
        return real(relation)

    monkeypatch.setattr(module, "_spark_columns", second_fails)
    with pytest.raises(OSError, match="no space"):
        sparked.write_tables({"ml.engine_a": _scores(9), "ml.engine_b": _scores(9)})
    for table in ("engine_a", "engine_b"):
        assert len(sparked.read_frame(f"select * from ml.{table}")) == 3
    assert not list((tmp_path / "spark" / "lake" / "ml").glob(".*"))  # no staging left


def test_spark_tables_copy_into_duckdb_for_exports_and_checks(tmp_path, spark) -> None:
    duck, sparked = _engines(tmp_path, tmp_path / "spark")
    sparked.write_tables({"ml.engine_copy": _scores(6)})
    with duckdb.connect(duck.path) as con:
        assert sparked.copy_to_duckdb(con, "ml", "engine_copy") == 6
    pd.testing.assert_frame_equal(
        _read(duck, "select * from ml.engine_copy"), _read(sparked, "select * from ml.engine_copy")
    )
    assert sparked.row_counts([("ml", "engine_copy"), ("ml", "missing")]) == {
        ("ml", "engine_copy"): 6
    }
