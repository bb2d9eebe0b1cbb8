"""Commands while another process holds the warehouse: "busy, retry" and exit 75 (#21).

The holder is a real second process: either a `segmint run` (the warehouse lock plus an open
DuckDB write connection, as during a step) or a writer outside segmint's lock (a run from
the Dagster UI holds only DuckDB's own file lock).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint.errors import EXIT_BUSY
from tests.segmint.clirun import REPO, assert_one_line_error, env, loaded_warehouse, segmint

HOLD = """
import sys, time
from pathlib import Path
import duckdb
from segmint.warehouse import exclusive_use
warehouse, ready, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if mode == "duckdb":
    con = duckdb.connect(str(warehouse))
    ready.touch()
    time.sleep(120)
else:
    with exclusive_use(warehouse, "segmint run", shared=mode == "shared"):
        con = duckdb.connect(str(warehouse), read_only=mode == "shared")
        ready.touch()
        time.sleep(120)
"""

AUDIENCES = str(REPO / "audiences")
AUDIENCE = "champions_loyalty_offer"
COMMANDS = {
    "ingest": ["ingest", "in"],
    "status": ["status"],
    "sql --working": ["sql", "--working", "select count(*) from raw.orders"],
    "audiences validate": ["audiences", "validate", "--audiences", AUDIENCES],
    "audiences preview": ["audiences", "preview", AUDIENCE, "--audiences", AUDIENCES],
    "audiences export": ["audiences", "export", AUDIENCE, "--to", "csv", "--audiences", AUDIENCES],
    "forget": ["forget", "--customer-id", "c1"],
}


def _hold(warehouse: Path, mode: str) -> subprocess.Popen:
    ready = warehouse.with_name(f"ready-{mode}")
    # an earlier holder's mark would let the command start before this holder holds the file
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), str(ready), mode], env=env()
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "holder did not start"
        time.sleep(0.05)
    return proc


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("busy")
    loaded_warehouse(root)
    return root


@pytest.fixture(params=["run", "duckdb"], ids=["segmint-run", "writer-outside-segmint"])
def held(request: pytest.FixtureRequest, shop: Path) -> Iterator[str]:
    holder = _hold(shop / "warehouse" / "segmint.duckdb", request.param)
    try:
        yield request.param
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_commands_answer_busy_while_the_warehouse_is_held(shop: Path, held: str, name: str) -> None:
    proc = segmint(*COMMANDS[name], cwd=shop)
    line = assert_one_line_error(proc, EXIT_BUSY, "busy, retry")
    if held == "run":
        assert "segmint run (pid" in line


def test_readers_share_and_writers_wait_for_a_reader(shop: Path) -> None:
    """While a reader (e.g. a long `segmint status`) holds its share: readers run, ingest
    and export answer busy."""
    holder = _hold(shop / "warehouse" / "segmint.duckdb", "shared")
    try:
        proc = segmint(*COMMANDS["sql --working"], "--format", "csv", cwd=shop)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[-1] == "3"
        assert segmint("status", cwd=shop).returncode == 0
        assert_one_line_error(segmint(*COMMANDS["ingest"], cwd=shop), EXIT_BUSY, "busy, retry")
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # Released: the writer gets it now.
    proc = segmint(*COMMANDS["ingest"], cwd=shop)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_audience_commands_work_when_the_warehouse_is_free(tmp_path: Path) -> None:
    """The guard lets them through: list, validate, preview and export on a free warehouse."""
    import duckdb

    from tests.segmint.activation.data import load_targeting, make_rows

    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    warehouse.parent.mkdir()
    con = duckdb.connect(str(warehouse))
    load_targeting(con, make_rows())
    con.close()
    aud = ["--audiences", AUDIENCES]
    for args in (
        ["audiences", "list", *aud],
        ["audiences", "validate", *aud],
        ["audiences", "preview", AUDIENCE, *aud],
        ["audiences", "export", AUDIENCE, "--to", "csv", *aud],
    ):
        proc = segmint(*args, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stdout + proc.stderr)
    assert list((tmp_path / "exports").rglob("*.csv"))


def test_ingest_never_slips_into_a_run(tmp_path: Path) -> None:
    """While a run holds the warehouse (between two steps: no DuckDB connection open), a new
    file is not loaded under it: ingest answers busy and raw stays as the run saw it."""
    import duckdb

    from tests.segmint.clirun import write_landing

    warehouse = loaded_warehouse(tmp_path)
    write_landing(tmp_path / "new", ["o9,c9,2026-02-09 12:00:00,completed,web,north,5.00,0,EUR"])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from segmint.warehouse import exclusive_use\n"
            "with exclusive_use(Path(sys.argv[1]), 'segmint run'):\n"
            "    Path(sys.argv[2]).touch(); time.sleep(120)",
            str(warehouse),
            str(tmp_path / "ready"),
        ],
        env=env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert holder.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc = segmint("ingest", "new", cwd=tmp_path)
        assert_one_line_error(proc, EXIT_BUSY, "busy, retry", "segmint run (pid")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from raw.orders").fetchone()[0] == 3
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert segmint("ingest", "new", cwd=tmp_path).returncode == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone()[0] == 4
