"""Past campaigns: recorded as segmint's activation tables record exports, loaded once."""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmint.activation import holdout_bucket
from segmint.sample import generate
from segmint.sample.history import record_export_history


def test_past_exports_load_as_activation_state_with_hash_holdouts(tmp_path: Path) -> None:
    history = tmp_path / "history"
    plain = generate(tmp_path / "plain", customers=400, days=500, seed=3, fmt="parquet")
    counts = generate(
        tmp_path / "landing", customers=400, days=500, seed=3, fmt="parquet",
        export_history=history,
    )  # fmt: skip
    assert counts["orders"] > plain["orders"]  # the purchases the campaigns caused
    assert counts["customers"] == plain["customers"]

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert record_export_history(con, history) >= 2
        assert record_export_history(con, history) == 0  # loading twice changes nothing
        runs = con.execute(
            "select run_id, audience, status, members, holdout, exported, as_of_date "
            "from activation.audience_runs"
        ).fetchall()
        members = con.execute(
            "select run_id, audience, customer_id, in_holdout, customer_key "
            "from activation.audience_run_members"
        ).fetchall()
        assignments = con.execute(
            "select audience, count(*), count(distinct customer_id) "
            "from activation.audience_holdout group by audience"
        ).fetchall()
    assert {r[2] for r in runs} == {"success"}
    by_run = {r[0]: r for r in runs}
    for run_id, _, _, n, held, sent, _ in runs:
        rows = [m for m in members if m[0] == run_id]
        assert len(rows) == n and sum(m[3] for m in rows) == held and sent == n - held
    # the holdout is the activation layer's own hash (default salt), share 0.2
    for run_id, audience, customer_id, in_holdout, key in members:
        assert in_holdout == (holdout_bucket(customer_id, audience, "segmint") < 0.2)
        assert key is not None and by_run[run_id][1] == audience
    assert all(n == distinct for _, n, distinct in assignments)
