"""`segmint status` and `segmint sql` with engine spark: what is published is the Spark
tables (as the last publishing run counted them), not a DuckDB snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from rich.console import Console

from segmint import spark
from segmint.settings import Settings
from segmint.status import collect_status
from tests.segmint.clirun import assert_one_line_error, segmint


def _settings(tmp_path: Path) -> Settings:
    db = tmp_path / "warehouse" / "segmint.duckdb"
    db.parent.mkdir(parents=True)
    duckdb.connect(str(db)).close()
    return Settings(
        warehouse=db, landing=tmp_path / "landing", engine="spark", spark_dir=tmp_path / "spark"
    )


def _text(s: Settings) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for table in collect_status(s):
        console.print(table)
    return console.export_text()


def test_status_on_spark_shows_the_published_spark_tables(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    before = _text(s)
    assert "not yet: run `segmint run`" in before
    assert "published snapshot (analysts)" not in before
    s.spark_path.mkdir(parents=True, exist_ok=True)
    record = {"run_id": "abcdef123456", "engine": "spark", "tables": {"marts.fct_orders": 1234}}
    (s.spark_path / spark.PUBLISHED_FILE).write_text(json.dumps(record))
    after = _text(s)
    assert "run abcdef12" in after and "fct_orders" in after and "1,234" in after
    assert "the Spark tables of marts, ml, activation" in after
    assert "DuckDB client" not in after  # no snapshot file to open on Spark


def test_sql_on_spark_says_where_the_published_tables_are(tmp_path: Path) -> None:
    (tmp_path / "segmint.yaml").write_text("engine: spark\n")
    proc = segmint("sql", "select 1", cwd=tmp_path)
    assert_one_line_error(proc, 2, "engine spark", "Spark tables", "--working")


def test_forget_on_spark_is_refused_before_anything_is_erased(tmp_path: Path) -> None:
    (tmp_path / "segmint.yaml").write_text("engine: spark\n")
    proc = segmint("forget", "--customer-id", "c1", cwd=tmp_path)
    assert_one_line_error(proc, 2, "engine spark", "nothing was erased")
