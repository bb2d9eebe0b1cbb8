"""Exports: delta/full runs, separate destination state, crashes, errors, every destination."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from segmint.activation import (
    AudienceError,
    export_audience,
    load_audience_file,
    run_audience,
)
from segmint.activation.formats import plain as plain_formats
from segmint.fs import file_sha256
from tests.segmint.activation.data import (
    REPO,
    Boom,
    audience,
    eligible,
    ids_in,
    load_targeting,
    make_rows,
    read_csv,
    table_count,
    write_yaml,
)


def test_delta_sends_adds_and_removes_and_rerun_sends_nothing(con, tmp_path: Path) -> None:
    rows = make_rows()
    aud = audience(holdout_share=0.0, conditions={"column": "frequency", "op": ">=", "value": 6})

    def members(data: list[dict[str, Any]]) -> set[str]:
        return {r["customer_id"] for r in data if r["frequency"] >= 6 and eligible(r)}

    first = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert ids_in(first.files[0]) == members(rows) and first.added == len(members(rows))
    # Nothing to remove: no removals file (an empty file would be an empty import).
    assert len(first.files) == 1 and first.removed == 0

    by_id = {r["customer_id"]: r for r in rows}
    current = sorted(members(rows))
    leaves, revokes, erased = current[0], current[1], current[2]
    joins = next(r["customer_id"] for r in rows if r["frequency"] < 6 and eligible(r))
    by_id[leaves]["frequency"] = 0
    by_id[revokes]["marketing_consent"] = False
    by_id[erased].update(is_erased=True, email=None, phone=None, first_name=None)
    by_id[joins]["frequency"] = 11
    load_targeting(con, rows)

    second = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert ids_in(second.files[0]) == {joins}
    assert second.added == 1 and second.removed == 3 and second.removed_erased == 1
    removal_keys = {r["customer_key"] for r in read_csv(second.files[1])}
    # The erased customer's removal goes out too, by the pseudonymous key only.
    assert removal_keys == {by_id[c]["customer_key"] for c in (leaves, revokes, erased)}
    assert read_csv(second.files[1])[0].keys() == {"customer_key"}
    manifest = json.loads(second.manifest.read_text())
    assert manifest["run_id"] == second.run_id and manifest["audience"] == aud.name
    assert manifest["counts"]["added"] == 1 and manifest["counts"]["removed"] == 3
    assert [f["role"] for f in manifest["files"]] == ["adds", "removals"]
    assert manifest["sent"] == {"adds": 1, "removals": 3}
    for entry in manifest["files"]:
        assert file_sha256(second.manifest.parent / entry["name"]) == entry["sha256"]

    third = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert (third.exported, third.added, third.removed) == (0, 0, 0)
    # Nothing to send: no data file at all, only the manifest of the run.
    assert third.files == [] and third.manifest.exists()
    assert sorted(p.name for p in third.manifest.parent.iterdir() if third.run_id in p.name) == [
        third.manifest.name
    ]
    assert json.loads(third.manifest.read_text())["files"] == []
    status = dict(
        con.execute(
            "select status, count(*) from activation.audience_membership where audience = ? "
            "group by 1",
            [aud.name],
        ).fetchall()
    )
    assert status == {"active": len(members(rows)), "removed": 2}  # erased row deleted


def test_full_rerun_is_byte_identical_and_state_stable(con, tmp_path: Path) -> None:
    aud = audience(destinations=["hubspot"])
    one = export_audience(con, aud, "hubspot", tmp_path, mode="full")
    two = export_audience(con, aud, "hubspot", tmp_path, mode="full")
    assert one.checksum == two.checksum and one.files[0] != two.files[0]
    assert one.files[0].read_bytes() == two.files[0].read_bytes()
    assert (two.added, two.removed) == (0, 0) and two.exported == one.exported > 0
    delta = export_audience(con, aud, "hubspot", tmp_path, mode="delta")
    assert delta.exported == 0


def test_destinations_keep_separate_state(con, tmp_path: Path) -> None:
    aud = audience()
    export_audience(con, aud, "csv", tmp_path, mode="delta")
    first_hubspot = export_audience(con, aud, "hubspot", tmp_path, mode="delta")
    assert first_hubspot.added == first_hubspot.members - first_hubspot.holdout > 0


def test_crash_mid_write_leaves_no_file_and_no_state(con, tmp_path: Path, monkeypatch) -> None:
    aud = audience(holdout_share=0.0)
    first = export_audience(con, aud, "csv", tmp_path, mode="delta")
    rows = make_rows()
    for r in rows:
        if r["frequency"] < 3:
            r["frequency"] = 3  # many new members for the next delta
    load_targeting(con, rows)
    membership_before = con.execute(
        "select * from activation.audience_membership order by customer_id"
    ).fetchall()
    files_before = sorted(p.name for p in (tmp_path / aud.name / "csv").iterdir())

    original = plain_formats.iter_rows

    def exploding(table):
        for i, row in enumerate(original(table)):
            if i == 3:
                raise Boom("disk on fire")
            yield row

    monkeypatch.setattr(plain_formats, "iter_rows", exploding)
    with pytest.raises(Boom):
        export_audience(con, aud, "csv", tmp_path, mode="delta")
    monkeypatch.undo()

    assert sorted(p.name for p in (tmp_path / aud.name / "csv").iterdir()) == files_before
    after = con.execute("select * from activation.audience_membership order by customer_id")
    assert after.fetchall() == membership_before
    statuses = [
        r[0]
        for r in con.execute(
            "select status from activation.audience_runs order by started_at, run_id"
        ).fetchall()
    ]
    assert statuses == ["success", "failed"]
    retry = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert retry.added > 0 and retry.added == len(ids_in(retry.files[0]))
    assert not ids_in(retry.files[0]) & ids_in(first.files[0])


def test_failure_after_files_are_placed_removes_them(con, tmp_path: Path, monkeypatch) -> None:
    aud = audience()
    import segmint.activation.export as export_module

    def failing_commit(*args: Any, **kwargs: Any) -> None:
        raise Boom("warehouse went away")

    monkeypatch.setattr(export_module, "commit_state", failing_commit)
    with pytest.raises(Boom):
        export_audience(con, aud, "csv", tmp_path, mode="full")
    assert list((tmp_path / aud.name / "csv").iterdir()) == []
    assert table_count(con, "activation.audience_membership") == 0


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import duckdb
    from segmint.activation import export_audience, load_audience_file
    from segmint.activation.formats import base as formats

    db, audience_file, out, marker = sys.argv[1:5]
    original = formats.iter_rows

    def slow(table):
        for i, row in enumerate(original(table)):
            if i == 2:
                Path(marker).write_text("mid-write")
                time.sleep(120)
            yield row

    formats.iter_rows = slow
    con = duckdb.connect(db)
    export_audience(con, load_audience_file(Path(audience_file)), "hubspot", Path(out), "delta")
    """
)


def test_sigkill_during_export_leaves_no_partial_file(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    rows = make_rows()
    with duckdb.connect(str(db)) as setup:
        load_targeting(setup, rows)
    spec = {
        "name": "killed",
        "conditions": {"column": "frequency", "op": ">=", "value": 0},
        "destinations": ["hubspot"],
    }
    audience_file = write_yaml(tmp_path, "killed", spec)
    out = tmp_path / "exports"
    marker = tmp_path / "marker"
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(audience_file), str(out), str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "export never reached the write"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    folder = out / "killed" / "hubspot"
    visible = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    assert visible == []  # no export file and no manifest under a real name
    with duckdb.connect(str(db)) as con:
        assert table_count(con, "activation.audience_membership") == 0
        assert con.execute("select status from activation.audience_runs").fetchall() == [
            ("running",)
        ]
        result = export_audience(con, load_audience_file(audience_file), "hubspot", out, "delta")
        assert result.added == sum(1 for r in rows if eligible(r))
        assert sorted(
            r[0] for r in con.execute("select status from activation.audience_runs").fetchall()
        ) == ["abandoned", "success"]
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # the killed run's temp file was swept


def test_unknown_destination_and_missing_dsn_are_clear_errors(con, tmp_path: Path) -> None:
    aud = audience(destinations=["csv", {"format": "postgres", "dsn_env": "SEGMINT_TEST_NO_DSN"}])
    with pytest.raises(AudienceError, match="unknown format 'excel'"):
        export_audience(con, aud, "excel", tmp_path)
    os.environ.pop("SEGMINT_TEST_NO_DSN", None)
    with pytest.raises(AudienceError, match="SEGMINT_TEST_NO_DSN"):
        export_audience(con, aud, "postgres", tmp_path)
    assert load_audience_file(REPO / "audiences" / "champions_loyalty_offer.yml").destinations


def test_run_audience_exports_every_destination(con, tmp_path: Path) -> None:
    aud = audience(destinations=["csv", "hubspot", {"format": "jsonl", "name": "app_feed"}])
    results = run_audience(con, aud, tmp_path, mode="delta", salt="s")
    assert [r.destination for r in results] == ["csv", "hubspot", "app_feed"]
    assert all(r.status == "success" and r.manifest and r.manifest.exists() for r in results)
    meta = results[0].metadata()
    assert {"members", "holdout", "exported", "removed"} <= set(meta)
    assert meta["exported"] == results[0].members - results[0].holdout
    assert (tmp_path / aud.name / "app_feed").is_dir()
