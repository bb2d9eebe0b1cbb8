"""The published snapshot: atomic swap, manifest, PII left out, readers never disturbed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from segmint.warehouse import (
    WarehouseBusy,
    exclusive_use,
    publish,
    read_manifest,
    verify_published,
)


def _working(path: Path, n: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts; create schema if not exists raw")
    con.execute(
        "create or replace table marts.customer_360 as select range::varchar customer_id, "
        "'p' || range || '@example.com' email, range * 1.5 monetary from range(?)",
        [n],
    )
    con.execute("create or replace table raw.orders as select 1 x")
    con.close()
    return path


def test_publish_copies_analyst_schemas_without_pii(tmp_path: Path) -> None:
    w = _working(tmp_path / "w.duckdb", 10)
    counts = publish(w, tmp_path / "pub.duckdb", run_id="r1")
    assert counts == {"marts.customer_360": 10}
    assert read_manifest(tmp_path / "pub.duckdb") == counts
    assert verify_published(tmp_path / "pub.duckdb") == {}
    con = duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True)
    cols = [r[0] for r in con.execute("describe marts.customer_360").fetchall()]
    schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    con.close()
    assert "email" not in cols and "monetary" in cols
    assert "raw" not in schemas


def test_failed_publish_keeps_previous_snapshot(tmp_path: Path, monkeypatch) -> None:
    w = _working(tmp_path / "w.duckdb", 5)
    pub = tmp_path / "pub.duckdb"
    publish(w, pub, run_id="good")
    _working(w, 7)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("segmint.warehouse.fsync_dir", boom)
    with pytest.raises(OSError):
        publish(w, pub, run_id="bad")
    assert read_manifest(pub) == {"marts.customer_360": 5}
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_reader_holding_snapshot_sees_old_or_new_never_errors(tmp_path: Path) -> None:
    w = _working(tmp_path / "w.duckdb", 3)
    pub = tmp_path / "pub.duckdb"
    publish(w, pub, run_id="first")
    reader = textwrap.dedent(
        f"""
        import duckdb, time
        errors = 0; seen = set()
        deadline = time.time() + 6
        while time.time() < deadline:
            try:
                con = duckdb.connect({str(pub)!r}, read_only=True)
                seen.add(con.execute("select count(*) from marts.customer_360").fetchone()[0])
                con.close()
            except Exception as exc:
                errors += 1; print(repr(exc))
        print("ERRORS", errors, "SEEN", sorted(seen))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE, text=True)
    for n in range(4, 40):
        _working(w, n)
        publish(w, pub, run_id=f"r{n}")
    out, _ = proc.communicate(timeout=60)
    assert "ERRORS 0" in out, out
    assert read_manifest(pub) == {"marts.customer_360": 39}


def test_publish_leaves_out_rows_of_erased_customers(tmp_path: Path) -> None:
    """A membership kept in the working warehouse until the vendor removal is sent must not
    reach the published file once the person is in the erasure ledger."""
    w = _working(tmp_path / "w.duckdb", 4)
    con = duckdb.connect(str(w))
    con.execute("create schema activation")
    con.execute(
        "create table activation.audience_membership as "
        "select range::varchar customer_id, 'winback' audience from range(4)"
    )
    con.execute("create table raw.erasure_ledger (customer_id_hash varchar)")
    # The ledger's hash: lower-case hex sha256 of the trimmed id (upper case here on purpose).
    con.execute("insert into raw.erasure_ledger select upper(sha256('2'))")
    con.close()
    counts = publish(w, tmp_path / "pub.duckdb", run_id="r1")
    assert counts == {"activation.audience_membership": 3, "marts.customer_360": 3}
    with duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True) as pub:
        for table in ("activation.audience_membership", "marts.customer_360"):
            ids = {r[0] for r in pub.execute(f"select customer_id from {table}").fetchall()}
            assert ids == {"0", "1", "3"}, table
    assert verify_published(tmp_path / "pub.duckdb") == {}


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
