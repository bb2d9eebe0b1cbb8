"""The CLI: help everywhere, one-line errors for user mistakes, query output formats."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from segmint.cli import app
from segmint.settings import get_settings
from segmint.warehouse import publish

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SEGMINT_WAREHOUSE", "SEGMINT_PUBLISHED", "SEGMINT_LANDING", "SEGMINT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "command", [[], ["generate"], ["ingest"], ["run"], ["status"], ["sql"], ["ui"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_missing_landing_folder_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "landing folder not found" in result.output
    assert "Traceback" not in result.output


def test_sql_without_warehouse_is_one_line_error() -> None:
    result = runner.invoke(app, ["sql", "select 1"])
    assert result.exit_code == 2
    assert "run `segmint run` first" in result.output


def _published(tmp_path: Path) -> None:
    w = tmp_path / "warehouse" / "segmint.duckdb"
    w.parent.mkdir()
    con = duckdb.connect(str(w))
    con.execute(
        "create schema marts; create table marts.t as select 1 a, 'x' b union all select 2, 'y'"
    )
    con.close()
    publish(w, tmp_path / "warehouse" / "published.duckdb")


def test_sql_formats(tmp_path: Path) -> None:
    _published(tmp_path)
    res = runner.invoke(app, ["sql", "select a, b from marts.t order by a", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    res = runner.invoke(app, ["sql", "select a, b from marts.t order by a", "--format", "csv"])
    assert res.stdout.splitlines() == ["a,b", "1,x", "2,y"]


def test_sql_unknown_table_is_one_line_error(tmp_path: Path) -> None:
    _published(tmp_path)
    res = runner.invoke(app, ["sql", "select * from marts.nope"])
    assert res.exit_code == 2
    assert "nope" in res.output and "Traceback" not in res.output


def test_sql_is_read_only(tmp_path: Path) -> None:
    _published(tmp_path)
    res = runner.invoke(app, ["sql", "drop table marts.t"])
    assert res.exit_code == 2
    assert "read-only" in res.output.lower()
