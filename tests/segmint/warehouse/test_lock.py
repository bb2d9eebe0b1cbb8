"""The warehouse's exclusive-use lock: one pipeline run or erasure at a time, released on exit
and when the holder is killed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from segmint.errors import SegmintError
from segmint.warehouse import WarehouseBusy, exclusive_use, lock_path

HOLD = """
import sys, time
from pathlib import Path
from segmint.warehouse import exclusive_use
with exclusive_use(Path(sys.argv[1]), "segmint forget"):
    Path(sys.argv[2]).touch()
    time.sleep(float(sys.argv[3]))
"""


def _hold(warehouse: Path, seconds: float) -> subprocess.Popen:
    ready = warehouse.with_name("ready")
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), str(ready), str(seconds)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "holder did not start"
        time.sleep(0.05)
    return proc


def test_exclusive_use_refuses_or_waits_for_the_holder(tmp_path: Path) -> None:
    """A run waits for an erasure in progress (and says so); with no wait it is refused."""
    warehouse = tmp_path / "wh" / "segmint.duckdb"
    holder = _hold(warehouse, 3.0)
    try:
        busy = pytest.raises(WarehouseBusy, match=r"in use by segmint forget \(pid \d+\)")
        with busy, exclusive_use(warehouse, "segmint run"):
            pass
        told: list[str] = []
        started = time.monotonic()
        with exclusive_use(warehouse, "segmint run", wait_seconds=60, on_wait=told.append):
            waited = time.monotonic() - started
    finally:
        holder.wait(timeout=60)
    assert waited > 1.0 and told == [f"segmint forget (pid {holder.pid})"]
    # Released on exit: the next user gets it at once.
    with exclusive_use(warehouse, "segmint run"):
        pass


def test_exclusive_use_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    warehouse = tmp_path / "segmint.duckdb"
    holder = _hold(warehouse, 600)
    holder.kill()
    holder.wait(timeout=60)
    with exclusive_use(warehouse, "segmint run"):
        pass


def test_readers_share_the_lock_and_a_writer_is_refused_meanwhile(tmp_path: Path) -> None:
    warehouse = tmp_path / "segmint.duckdb"
    with exclusive_use(warehouse, "segmint status", shared=True):
        with exclusive_use(warehouse, "segmint sql", shared=True):
            pass
        with pytest.raises(WarehouseBusy), exclusive_use(warehouse, "segmint ingest"):
            pass
    busy = pytest.raises(WarehouseBusy)
    with exclusive_use(warehouse, "ingest"), busy, exclusive_use(warehouse, "x", shared=True):
        pass


def test_the_holder_is_cleared_on_release(tmp_path: Path) -> None:
    """A later waiter never names a holder that has gone (the text is the holder's own)."""
    warehouse = tmp_path / "segmint.duckdb"
    with exclusive_use(warehouse, "segmint ingest"):
        assert "segmint ingest (pid" in lock_path(warehouse).read_text()
    assert lock_path(warehouse).read_text() == ""
    with pytest.raises(RuntimeError), exclusive_use(warehouse, "segmint run"):
        raise RuntimeError("a failing step")
    assert lock_path(warehouse).read_text() == ""


def test_a_reader_that_cannot_make_the_lock_file_still_reads(tmp_path: Path) -> None:
    """E.g. an analyst on a read-only folder (here: the lock path cannot be opened, as root
    can write anywhere): readers go on under DuckDB's own lock, writers get one line."""
    warehouse = tmp_path / "segmint.duckdb"
    lock_path(warehouse).mkdir()
    with exclusive_use(warehouse, "segmint status", shared=True):
        pass
    refused = pytest.raises(SegmintError, match="cannot create the lock file")
    with refused, exclusive_use(warehouse, "segmint ingest"):
        pass
