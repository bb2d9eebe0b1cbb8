"""`segmint watch`: a run whenever files land, none while nothing changes."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from orchestration.watch import watch_landing
from tests.segmint.clirun import ORDERS, segmint, write_landing


def test_a_run_per_pass_that_finds_new_or_changed_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"  # not there yet: the watch waits for it
    runs: list[list[str]] = []
    script = iter(
        [
            lambda: None,  # nothing yet
            lambda: write_landing(landing),  # a file lands
            lambda: None,  # (the run happened) nothing new: no run
            lambda: (landing / "more").mkdir() or (landing / "more" / "events.csv").write_text("x"),
            lambda: os.utime(landing / "orders.csv", ns=(1, 1)),  # re-delivered: a new stamp
        ]
    )

    def sleep(_: float) -> None:
        next(script)()

    n = watch_landing(landing, runs.append, 30.0, max_runs=3, sleep=sleep)
    assert n == 3
    assert runs == [["orders.csv"], ["more/events.csv"], ["orders.csv"]]


def test_watch_runs_the_pipeline_on_what_landed_and_stops(tmp_path: Path) -> None:
    write_landing(tmp_path / "landing")
    proc = segmint("watch", "--runs", "1", "--select", "raw/orders", cwd=tmp_path, timeout=300)
    both = proc.stdout + proc.stderr
    assert proc.returncode == 0, both
    assert "Traceback" not in both and "\x1b[" not in both
    assert "1 new or changed file(s)" in proc.stderr
    with duckdb.connect(str(tmp_path / "warehouse" / "segmint.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone()[0] == len(ORDERS)
