"""`segmint sql`: a sandboxed read-only query, strict JSON, pipe-friendly tables (#21, #15)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from segmint.errors import SegmintError
from segmint.query import connect_sandboxed, run_query
from segmint.warehouse import publish
from tests.segmint.clirun import assert_one_line_error, segmint

LONG = "a-very-long-segment-description-" * 6  # 192 characters, wider than any default


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A working warehouse and its published snapshot with awkward values."""
    w = tmp_path / "warehouse" / "segmint.duckdb"
    w.parent.mkdir()
    con = duckdb.connect(str(w))
    con.execute(
        f"""
        create schema marts;
        create table marts.t as
        select * from (values
            (1, 'x', 1490.0000000000002::double, 142693.8600000003::double, 12.50::decimal(18,2),
             'nan'::double, '{LONG}'),
            (2, 'y', 0.000123456::double, 'inf'::double, 3.00::decimal(18,2),
             '-inf'::double, 'short')
        ) v(a, b, f, g, d, n, long_text);
        create table marts.contacts as select 'c1' customer_id, 'p@example.com' email
        """
    )
    con.close()
    publish(w, tmp_path / "warehouse" / "published.duckdb")
    return tmp_path


def test_json_is_strict_nan_and_infinity_become_null(shop: Path) -> None:
    query = "select a, f, g, d, n from marts.t order by a"
    proc = segmint("sql", query, "--format", "json", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert "NaN" not in proc.stdout and "Infinity" not in proc.stdout
    rows = json.loads(proc.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert rows == [
        {"a": 1, "f": 1490.0, "g": 142693.86, "d": 12.5, "n": None},
        {"a": 2, "f": 0.000123456, "g": None, "d": 3.0, "n": None},
    ]


def test_csv_has_no_binary_noise(shop: Path) -> None:
    proc = segmint("sql", "select a, f, g from marts.t order by a", "--format", "csv", cwd=shop)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["a,f,g", "1,1490,142693.86", "2,0.000123456,inf"]


def test_table_to_a_pipe_is_whole_rounded_and_plain(shop: Path) -> None:
    proc = segmint(
        "sql", "select a, f, g, d, long_text from marts.t order by a", cwd=shop, FORCE_COLOR="1"
    )
    assert proc.returncode == 0, proc.stderr
    assert LONG in proc.stdout  # not cut to "…" at 80 columns
    assert "…" not in proc.stdout
    assert "\x1b[" not in proc.stdout + proc.stderr  # no ANSI codes, FORCE_COLOR or not
    assert "1490 " in proc.stdout and "1490.0000000000002" not in proc.stdout
    assert "142693.86 " in proc.stdout and "142693.8600000003" not in proc.stdout
    assert "0.0001235" in proc.stdout


def _stamps(folder: Path) -> dict[str, int]:
    """mtime of every database file (the lock file beside them is segmint's own)."""
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix != ".lock"}


WRITES = [
    ("copy (select * from marts.contacts) to '{out}/leak.csv'", "leak.csv"),
    ("export database '{out}/dump'", "dump"),
    ("attach '{out}/new.duckdb' as n", "new.duckdb"),
    ("select * from read_csv('{out}/../etc-passwd.csv')", None),
    ("install httpfs", None),
    ("load httpfs", None),
    ("vacuum", None),
    ("checkpoint", None),
    ("force checkpoint", None),
    ("set enable_external_access = true", None),
    ("drop table marts.t", None),
    ("create table marts.u as select 1", None),
    ("select 1; copy (select 1) to '{out}/second.csv'", "second.csv"),
]


@pytest.mark.parametrize("working", [False, True], ids=["published", "working"])
@pytest.mark.parametrize(("query", "made"), WRITES, ids=[q.split()[0] for q, _ in WRITES])
def test_sql_cannot_write_or_reach_files(
    shop: Path, working: bool, query: str, made: str | None
) -> None:
    """What `segmint sql` runs (segmint.query.run_query), in process for speed."""
    out = shop / "out"
    out.mkdir()
    (shop / "etc-passwd.csv").write_text("secret\n1\n")
    before = _stamps(shop / "warehouse")
    path = shop / "warehouse" / ("segmint.duckdb" if working else "published.duckdb")
    with pytest.raises(SegmintError) as refused:
        run_query(path, query.format(out=out))
    assert "\n" not in str(refused.value)
    assert list(out.iterdir()) == [], made
    assert _stamps(shop / "warehouse") == before  # neither file was written


@pytest.mark.parametrize("working", [[], ["--working"]], ids=["published", "working"])
def test_cli_refuses_a_copy_of_every_contact_in_one_line(shop: Path, working: list[str]) -> None:
    leak = shop / "leak.csv"
    proc = segmint("sql", f"copy (select * from marts.contacts) to '{leak}'", *working, cwd=shop)
    assert_one_line_error(proc, 2, "COPY refused", "read-only")
    assert not leak.exists()
    proc = segmint("sql", "vacuum", *working, cwd=shop)
    assert_one_line_error(proc, 2, "VACUUM refused", "read-only")


def test_queries_of_every_read_form_still_run(shop: Path) -> None:
    for query in (
        "select count(*) n from marts.t",
        "with x as (select 1 a) select * from x",
        "from marts.t select a",
        "describe marts.t",
        "show tables",
        "summarize marts.t",
        "explain select 1",
    ):
        proc = segmint("sql", query, "--format", "csv", cwd=shop)
        assert proc.returncode == 0, (query, proc.stderr)


@pytest.mark.parametrize("name", ["published.duckdb", "segmint.duckdb"])
def test_the_connection_itself_has_no_file_access(shop: Path, name: str) -> None:
    """Behind the statement check: DuckDB's external access is off and cannot be turned on."""
    con = connect_sandboxed(shop / "warehouse" / name)
    try:
        for statement in (
            f"copy (select 1) to '{shop / 'x.csv'}'",
            f"attach '{shop / 'new.duckdb'}'",
            "install httpfs",
        ):
            with pytest.raises(duckdb.PermissionException):
                con.execute(statement)
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set enable_external_access = true")
    finally:
        con.close()
    assert not (shop / "x.csv").exists() and not (shop / "new.duckdb").exists()
