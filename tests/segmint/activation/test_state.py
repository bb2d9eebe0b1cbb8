"""Activation state: erased customers' rows are purged, the ledger is enforced."""

from __future__ import annotations

from pathlib import Path

from segmint.activation import (
    export_audience,
    holdout_bucket,
    preview_audience,
    purge_erased,
)
from tests.segmint.activation.data import (
    activation_rows,
    audience,
    eligible,
    ids_in,
    ledger,
    load_targeting,
    make_rows,
    read_csv,
    table_count,
)


def test_purge_erased_drops_history_of_erased_customers(con, tmp_path: Path) -> None:
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0})
    export_audience(con, aud, "csv", tmp_path, mode="full")
    victim = next(r["customer_id"] for r in make_rows() if eligible(r))
    ledger(con, victim)
    assert purge_erased(con) >= 1
    left = con.execute(
        "select count(*) from activation.audience_run_members where customer_id = ?", [victim]
    ).fetchone()
    assert left == (0,)


def test_ledger_is_enforced_even_when_targeting_does_not_flag_the_customer(
    con, tmp_path: Path
) -> None:
    # A stale or rebuilt customer_targeting (is_erased = false) must not put a ledgered
    # customer into a membership, a holdout group or a removal file.
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.5)
    rows = make_rows()
    held = [
        r["customer_id"]
        for r in rows
        if eligible(r) and holdout_bucket(r["customer_id"], aud.name, "s") < 0.5
    ]
    sent = [
        r["customer_id"]
        for r in rows
        if eligible(r) and holdout_bucket(r["customer_id"], aud.name, "s") >= 0.5
    ]
    first = export_audience(con, aud, "csv", tmp_path, mode="delta", salt="s")
    assert sent[0] in ids_in(first.files[0]) and first.removed == 0
    new_holdout, old_member = held[0], sent[0]
    later = next(
        r["customer_id"]
        for r in rows[::-1]
        if eligible(r)
        and holdout_bucket(r["customer_id"], aud.name, "s") < 0.5
        and r["customer_id"] != new_holdout
    )
    # `later` only matches from now on; it would be a brand-new holdout assignment.
    con.execute("delete from activation.audience_holdout where customer_id = ?", [later])
    con.execute("delete from activation.audience_membership where customer_id = ?", [later])
    con.execute("delete from activation.audience_run_members where customer_id = ?", [later])
    ledger(con, f" {old_member} ", later)

    preview = preview_audience(con, aud, salt="s")
    assert preview.excluded_erased == first.excluded_erased + 2
    second = export_audience(con, aud, "csv", tmp_path, mode="delta", salt="s")
    assert second.excluded_erased == first.excluded_erased + 2
    assert second.removed == 1 and second.removed_erased == 1
    files = {p.name.rsplit("__", 1)[1]: p for p in second.files}
    # The erased member's removal goes out by the pseudonymous key alone: no contact data,
    # even though this stale targeting table still holds it.
    assert read_csv(files["removals.csv"]) == [{"customer_key": f"key{old_member[1:]}"}]
    assert "adds.csv" not in files or old_member not in ids_in(files["adds.csv"])
    assert activation_rows(con, later) == {}
    assert activation_rows(con, old_member) == {}  # removal processed: membership deleted
    assert activation_rows(con, new_holdout)  # everyone else keeps their state
    assert second.members == first.members - 2


def test_every_export_purges_leftover_state_of_ledgered_customers(con, tmp_path: Path) -> None:
    # State that names an erased customer (restored from an older backup, left by an
    # erasure that did not purge activation) is gone after the next export of any audience.
    everyone = audience(
        conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.5
    )
    other = audience(name="other_aud", conditions={"column": "frequency", "op": ">=", "value": 0})
    export_audience(con, everyone, "csv", tmp_path, mode="full", salt="s")
    export_audience(con, other, "csv", tmp_path, mode="full", salt="s")
    victim = next(
        r["customer_id"]
        for r in make_rows()
        if eligible(r) and holdout_bucket(r["customer_id"], everyone.name, "s") < 0.5
    )
    before = activation_rows(con, victim)
    assert before["audience_holdout"] == 2 and before["audience_run_members"] == 2
    held = con.execute(
        "select in_holdout from activation.audience_membership where customer_id = ? "
        "and audience = ?",
        [victim, everyone.name],
    ).fetchall()
    assert held == [(True,)]
    ledger(con, victim)
    load_targeting(con, [r for r in make_rows() if r["customer_id"] != victim])
    export_audience(con, everyone, "csv", tmp_path, mode="delta", salt="s")
    # Every table is clean, the other audience's history included; only the exported
    # membership of other_aud waits for other_aud's next export to process the removal.
    left = con.execute(
        "select audience, status, in_holdout from activation.audience_membership "
        "where customer_id = ?",
        [victim],
    ).fetchall()
    assert left == [("other_aud", "active", False)]
    assert activation_rows(con, victim) == {"audience_membership": 1}
    export_audience(con, other, "csv", tmp_path, mode="delta", salt="s")
    assert activation_rows(con, victim) == {}
    holdout_total = table_count(con, "activation.audience_holdout")
    assert holdout_total == 2 * sum(1 for r in make_rows() if eligible(r)) - 2
