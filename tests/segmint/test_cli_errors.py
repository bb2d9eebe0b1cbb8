"""Every user error of the CLI is one line and an exit code, never a traceback (#14.9, #21).

Each case runs `segmint` in a subprocess, as a user or a script does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.segmint.clirun import (
    EARLIEST,
    LATEST,
    assert_one_line_error,
    loaded_warehouse,
    segmint,
    write_landing,
)


def _budget(cwd: Path) -> float:
    """2 s, or twice what starting the CLI costs on a machine busy with other work."""
    started = time.monotonic()
    segmint("--help", cwd=cwd)
    return max(2.0, 2 * (time.monotonic() - started))


def test_wrong_explicit_landing_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = segmint("ingest", str(tmp_path / "nope"), cwd=tmp_path)
    assert_one_line_error(proc, 2, "landing folder not found", "nope")
    proc = segmint("run", "--landing", str(tmp_path / "nope"), cwd=tmp_path)
    assert_one_line_error(proc, 2, "landing folder not found", "nope")


def test_landing_without_an_orders_file_is_one_line(tmp_path: Path) -> None:
    """An IngestError is a user error too (it printed a traceback)."""
    (tmp_path / "empty").mkdir()
    proc = segmint("ingest", str(tmp_path / "empty"), cwd=tmp_path)
    assert_one_line_error(proc, 2, "no orders file found")


def test_missing_default_landing_after_ingest_means_nothing_new(tmp_path: Path) -> None:
    """`segmint ingest DIR` then `segmint ingest` (no ./landing): nothing new, exit 0."""
    loaded_warehouse(tmp_path)
    proc = segmint("ingest", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing new to ingest" in proc.stderr and "Traceback" not in proc.stderr
    assert f"from {EARLIEST} to {LATEST}" in proc.stderr


def test_missing_default_landing_and_empty_warehouse_is_one_line(tmp_path: Path) -> None:
    proc = segmint("ingest", cwd=tmp_path)
    assert_one_line_error(proc, 2, "landing folder not found", "segmint ingest DIR")
    proc = segmint("run", cwd=tmp_path)
    assert_one_line_error(proc, 2, "landing folder not found", "holds no data")


@pytest.mark.parametrize("as_of", ["2026-13-01", "2026-02-30", "yesterday", "2026-1-5"])
def test_malformed_as_of_is_refused_before_any_work(tmp_path: Path, as_of: str) -> None:
    write_landing(tmp_path / "landing")
    started = time.monotonic()
    proc = segmint("run", "--as-of", as_of, cwd=tmp_path)
    seconds = time.monotonic() - started
    assert_one_line_error(proc, 2, f"--as-of '{as_of}' is not a date", "YYYY-MM-DD")
    assert seconds < _budget(tmp_path), seconds
    assert not (tmp_path / "warehouse").exists(), "work started before the flag was checked"


def test_malformed_as_of_from_the_environment_is_refused(tmp_path: Path) -> None:
    write_landing(tmp_path / "landing")
    proc = segmint("run", cwd=tmp_path, SEGMINT_AS_OF="2026-13-01")
    assert_one_line_error(proc, 2, "is not a date")


@pytest.mark.parametrize(
    ("as_of", "side"),
    [("2099-01-01", "more than a day after the latest"), ("2025-12-31", "before the earliest")],
)
def test_as_of_outside_the_data_is_refused_with_its_range(
    tmp_path: Path, as_of: str, side: str
) -> None:
    loaded_warehouse(tmp_path)
    started = time.monotonic()
    proc = segmint("run", "--as-of", as_of, cwd=tmp_path)
    assert time.monotonic() - started < _budget(tmp_path)
    assert_one_line_error(proc, 2, side, f"from {EARLIEST} to {LATEST}")


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["sql", "--working", "select 1"],
        ["run"],
        ["ingest", "in"],
        ["forget", "--customer-id", "c1"],
        ["audiences", "validate", "--audiences", "aud"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_warehouse_that_is_a_folder_is_one_line(tmp_path: Path, command: list[str]) -> None:
    write_landing(tmp_path / "in")
    write_landing(tmp_path / "landing")
    (tmp_path / "aud").mkdir()
    folder = tmp_path / "wh"
    folder.mkdir()
    proc = segmint(*command, "--warehouse", str(folder), cwd=tmp_path)
    assert_one_line_error(proc, 2, "is a folder, not a DuckDB file")


@pytest.mark.parametrize(
    "command", [["status"], ["sql", "--working", "select 1"], ["ingest", "in"], ["run"]]
)
def test_warehouse_that_is_not_duckdb_is_one_line(tmp_path: Path, command: list[str]) -> None:
    write_landing(tmp_path / "in")
    write_landing(tmp_path / "landing")
    bogus = tmp_path / "notes.csv"
    bogus.write_text("this is not a database\n" * 10)
    proc = segmint(*command, "--warehouse", str(bogus), cwd=tmp_path)
    assert_one_line_error(proc, 2, "is not a DuckDB database file")
    assert bogus.read_text() == "this is not a database\n" * 10


def test_published_path_that_is_not_duckdb_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "warehouse" / "published.duckdb"
    bogus.parent.mkdir()
    bogus.write_text("garbage")
    proc = segmint("sql", "select 1", cwd=tmp_path)
    assert_one_line_error(proc, 2, "is not a DuckDB database file")


def test_forget_unknown_id_says_not_found_and_suppression(tmp_path: Path) -> None:
    loaded_warehouse(tmp_path)
    proc = segmint("forget", "--customer-id", "nobody-42", cwd=tmp_path)
    line = assert_one_line_error(proc, 3, "not found", "a suppression was recorded")
    assert "nobody-42" not in line  # no identifier echoed into logs
    proc = segmint("forget", "--email", "nobody@example.com", cwd=tmp_path)
    assert_one_line_error(proc, 2, "no customer", "no suppression was recorded")
    assert "nobody@example.com" not in proc.stderr


def test_forget_known_id_still_succeeds(tmp_path: Path) -> None:
    loaded_warehouse(tmp_path)
    proc = segmint("forget", "--customer-id", "c2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not found" not in proc.stderr


def test_audiences_list_names_the_folder_and_how_to_set_it(tmp_path: Path) -> None:
    proc = segmint("audiences", "list", cwd=tmp_path)
    line = assert_one_line_error(proc, 2, str((tmp_path / "audiences").resolve()))
    for how in ("--audiences", "SEGMINT_AUDIENCES", "audiences:"):
        assert how in line


@pytest.mark.parametrize(
    "command",
    [
        ["audiences", "export", "x", "--to", "csv", "--mode", "sometimes"],
        ["generate", "--format", "xml"],
        ["generate", "--dirt-rate", "2"],
        ["sql", "select 1", "--format", "yaml"],
    ],
)
def test_bad_option_values_are_one_line(tmp_path: Path, command: list[str]) -> None:
    proc = segmint(*command, cwd=tmp_path)
    assert_one_line_error(proc, 2, "--" if "--dirt-rate" in command else "unknown")
