"""marts.uplift_training (dbt): members of runs whose window passed, features as of the send."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from segmint.activation import ensure_activation_schema
from tests.dbt.helpers import DbtProject

AS_OF = date(2024, 6, 30)
SEND = AS_OF - timedelta(days=45)  # window passed
OPEN = AS_OF - timedelta(days=10)  # window still open
FEATURES = (
    "age", "tenure_days", "recency_days", "frequency", "monetary", "avg_order_value",
    "orders_30d", "orders_90d", "orders_prev_90d", "revenue_90d", "mean_interpurchase_days",
    "cancel_rate", "return_rate", "discount_share", "distinct_categories", "sessions_30d",
    "sessions_90d", "days_since_last_visit", "email_open_rate", "email_click_rate",
)  # fmt: skip


def _warehouse(tmp_path: Path) -> DbtProject:
    """The models uplift_training reads, as plain tables, and two recorded export runs."""
    db = tmp_path / "segmint.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute(f"create table intermediate.int_as_of as select date '{AS_OF}' as as_of_date")
        con.execute(
            "create table marts.fct_orders (order_id varchar, customer_id varchar, "
            "order_date date, total_amount_base decimal(18, 2), is_completed boolean)"
        )
        orders = [
            ("o1", "a", SEND + timedelta(days=1), 40.0, True),
            ("o2", "a", SEND + timedelta(days=30), 10.5, True),
            ("o3", "a", SEND + timedelta(days=31), 99.0, True),  # after the window
            ("o4", "b", SEND, 99.0, True),  # on the send day: before the window
            ("o5", "c", SEND + timedelta(days=3), 20.0, False),  # cancelled
            ("o6", "d", SEND + timedelta(days=2), 7.0, True),
        ]
        con.executemany("insert into marts.fct_orders values (?, ?, ?, ?, ?)", orders)
        other = ", ".join(
            f"null::double as {c}" for c in FEATURES if c not in ("frequency", "email_open_rate")
        )
        con.execute(
            f"create table intermediate.int_customer_features as select t.*, {other} "
            "from (values ('a', ?::date, 3, 0.5), ('a', ?::date, 9, 0.9), ('b', ?::date, 1, 0.1)) "
            "t(customer_id, cutoff_date, frequency, email_open_rate)",
            [SEND, AS_OF, SEND],
        )
        con.execute(
            "create table intermediate.int_customer_discounts as "
            "select 'a' as customer_id, ?::date as cutoff_date, 1.5 as discount_share_index, "
            "2.0 as discount_purchase_rate_lift",
            [SEND],
        )
        ensure_activation_schema(con)
        for run_id, as_of, status, members in (
            ("r1", SEND, "success", {"a": False, "b": False, "c": True, "d": True}),
            ("r2", OPEN, "success", {"a": False, "b": True}),
            ("r3", SEND, "failed", {"a": False}),
        ):
            con.execute(
                "insert into activation.audience_runs (run_id, audience, destination, format, "
                "mode, as_of_date, started_at, status) values (?, 'aud', 'csv', 'csv', 'full', "
                "?, ?, ?)",
                [run_id, as_of, datetime(2024, 1, 1), status],
            )
            con.executemany(
                "insert into activation.audience_run_members values (?, 'aud', 'csv', ?, null, ?)",
                [[run_id, c, h] for c, h in members.items()],
            )
    return DbtProject(db, tmp_path)


def test_uplift_training_reads_passed_windows_with_features_as_of_the_send(tmp_path: Path):
    project = _warehouse(tmp_path)
    project.build("--select", "uplift_training")
    rows = project.query(
        "select run_id, customer_id, send_date, treated, purchased, revenue, frequency, "
        "email_open_rate, discount_share_index, age from marts.uplift_training "
        "order by customer_id"
    )
    assert [r[:6] for r in rows] == [
        ("r1", "a", SEND, True, True, 50.5),
        ("r1", "b", SEND, True, False, 0),
        ("r1", "c", SEND, False, False, 0),
        ("r1", "d", SEND, False, True, 7.0),
    ]
    # features of the send cutoff, never the as-of ones; null where none was computed
    assert [float(v) for v in rows[0][6:9]] == [3, 0.5, 1.5]
    assert [float(v) for v in rows[1][6:8]] == [1, 0.1] and rows[1][8] is None
    assert rows[2][6] is None and rows[0][9] is None
