"""`segmint ingest` and `segmint run` on landing folders a user gets wrong (#14.9, #14.11)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from segmint.as_of import check_as_of_file, data_range, parse_as_of
from segmint.errors import SegmintError
from tests.segmint.clirun import (
    EARLIEST,
    LATEST,
    ORDERS,
    ORDERS_HEADER,
    loaded_warehouse,
    segmint,
    write_landing,
)


def test_refused_semicolon_file_exits_non_zero_and_names_the_sniffed_delimiter(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    lines = [ORDERS_HEADER, *ORDERS]
    (landing / "orders.csv").write_text("\n".join(x.replace(",", ";") for x in lines) + "\n")
    proc = segmint("ingest", str(landing), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    refused = [line for line in proc.stderr.splitlines() if line.startswith("refused")]
    assert len(refused) == 1, proc.stderr
    assert "orders.csv" in refused[0] and "';' (semicolon)-delimited" in refused[0]


def test_clean_ingest_exits_zero_and_comma_files_get_no_delimiter_hint(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "in")
    (landing / "customers.csv").write_text("customer_id,email\n")  # no rows, valid header
    proc = segmint("ingest", str(landing), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sniffer" not in proc.stderr


def test_run_after_ingest_dir_without_default_landing_runs_and_says_why(tmp_path: Path) -> None:
    """#14.9 as reported: `segmint ingest DIR`, then `segmint run` with no ./landing."""
    loaded_warehouse(tmp_path)
    proc = segmint("run", "--select", "raw/orders", cwd=tmp_path, timeout=300)
    both = proc.stdout + proc.stderr
    assert proc.returncode == 0, both
    assert "Traceback" not in both
    assert "nothing new to ingest" in proc.stderr
    # #15: no audience folder → which folder was looked for and how to set it.
    assert str((tmp_path / "audiences").resolve()) in proc.stderr
    assert "SEGMINT_AUDIENCES" in proc.stderr
    # #15: a pipe gets no ANSI codes (dbt's own log lines included).
    assert "\x1b[" not in both


def test_parse_as_of_is_strict() -> None:
    assert str(parse_as_of("2026-02-10")) == "2026-02-10"
    assert parse_as_of(None) is None and parse_as_of(" ") is None
    for bad in ("2026-13-01", "20260210", "2026-02-10T00:00", "2026-2-1"):
        with pytest.raises(SegmintError, match="is not a date"):
            parse_as_of(bad)


def test_pipeline_check_refuses_as_of_outside_the_ingested_data(tmp_path: Path) -> None:
    """What the dbt step checks right after ingest (a first run has no data before it)."""
    warehouse = loaded_warehouse(tmp_path)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert tuple(str(d) for d in data_range(con)) == (EARLIEST, LATEST)
    finally:
        con.close()
    check_as_of_file(warehouse, LATEST)
    check_as_of_file(warehouse, "2026-02-11")  # the day after the latest data
    check_as_of_file(warehouse, EARLIEST)
    with pytest.raises(SegmintError, match=f"from {EARLIEST} to {LATEST}"):
        check_as_of_file(warehouse, "2026-02-12")
    with pytest.raises(SegmintError, match="before the earliest"):
        check_as_of_file(warehouse, "2026-01-04")


def test_first_run_with_as_of_after_the_data_stops_before_dbt(tmp_path: Path) -> None:
    """No raw data before the run: the range is checked right after ingest, before dbt
    (a zero-filled forecast to 2099 ran for 34 minutes), in one line, no stack."""
    write_landing(tmp_path / "landing")
    proc = segmint("run", "--as-of", "2099-01-01", cwd=tmp_path, timeout=300)
    both = proc.stdout + proc.stderr
    assert proc.returncode == 1, both
    assert "Traceback" not in both and "Stack Trace" not in both
    assert f"orders and events run from {EARLIEST} to {LATEST}" in proc.stdout
    assert "✗ dbt_models" in proc.stderr
    for later in ("demand_forecasting", "publish__snapshot"):
        assert f"✓ {later}" not in proc.stderr
