"""Holdout readout: exported vs holdout uplift with confidence intervals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from segmint.activation import (
    compute_holdout_readout,
    export_audience,
)
from tests.segmint.activation.data import (
    AS_OF,
    audience,
)


def test_holdout_readout_compares_groups_with_ci(con, tmp_path: Path) -> None:
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.5)
    result = export_audience(con, aud, "csv", tmp_path, mode="full", salt="r")
    members = con.execute(
        "select customer_id, in_holdout from activation.audience_run_members where run_id = ?",
        [result.run_id],
    ).fetchall()
    exported = sorted(c for c, h in members if not h)
    holdout = sorted(c for c, h in members if h)
    assert len(exported) >= 3 and len(holdout) >= 3
    orders = [
        (exported[0], AS_OF + timedelta(days=1), 100.0, True),
        (exported[0], AS_OF + timedelta(days=5), 50.0, True),
        (exported[1], AS_OF + timedelta(days=30), 30.0, True),
        (exported[2], AS_OF + timedelta(days=31), 999.0, True),  # after the window
        (exported[2], AS_OF, 999.0, True),  # on the export day: before the window
        (holdout[0], AS_OF + timedelta(days=2), 20.0, True),
        (holdout[1], AS_OF + timedelta(days=3), 500.0, False),  # cancelled
        (holdout[1], AS_OF + timedelta(days=60), 1.0, True),  # data runs past the window
    ]
    con.execute(
        "create table marts.fct_orders (customer_id varchar, order_date date, "
        "total_amount double, is_completed boolean)"
    )
    con.executemany("insert into marts.fct_orders values (?, ?, ?, ?)", orders)
    assert compute_holdout_readout(con, window_days=30) == 1
    cur = con.execute("select * from activation.holdout_readout")
    row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    n_e, n_h = len(exported), len(holdout)
    assert row["exported_members"] == n_e and row["holdout_members"] == n_h
    assert row["exported_purchasers"] == 2 and row["holdout_purchasers"] == 1
    assert row["exported_purchase_rate"] == pytest.approx(2 / n_e)
    assert row["holdout_purchase_rate"] == pytest.approx(1 / n_h)
    rev_e = [150.0, 30.0] + [0.0] * (n_e - 2)
    rev_h = [20.0] + [0.0] * (n_h - 1)
    mean_e, mean_h = sum(rev_e) / n_e, sum(rev_h) / n_h
    assert row["exported_revenue_per_member"] == pytest.approx(mean_e)
    assert row["holdout_revenue_per_member"] == pytest.approx(mean_h)
    assert row["revenue_uplift"] == pytest.approx(mean_e - mean_h)

    def var(xs: list[float]) -> float:
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)

    half = 1.959963984540054 * (var(rev_e) / n_e + var(rev_h) / n_h) ** 0.5
    assert row["revenue_ci_low"] == pytest.approx(mean_e - mean_h - half)
    assert row["revenue_ci_high"] == pytest.approx(mean_e - mean_h + half)
    p_e, p_h = 2 / n_e, 1 / n_h
    half_p = 1.959963984540054 * (p_e * (1 - p_e) / n_e + p_h * (1 - p_h) / n_h) ** 0.5
    assert row["purchase_rate_ci_low"] == pytest.approx(p_e - p_h - half_p)
    assert row["window_complete"] is True and row["window_days"] == 30
