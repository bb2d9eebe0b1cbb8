"""An old file never re-grants revoked consent (#21): the newest updated_at wins.

Real ingest of two customers files into one warehouse and real incremental dbt runs of the
models up to marts.customer_targeting (what exports select from): a revocation loaded
first and a re-delivered older grant loaded after it leave the customer not marketable,
on the incremental run and on a full refresh; only a newer grant restores consent.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from segmint.ingest import ingest
from tests.dbt.helpers import DbtProject
from tests.reliability.test_bad_input_corpus import BASE_ORDERS, CUSTOMERS_COLS, customer

SELECT = ["--select", "+customer_targeting"]


def _deliver(root: Path, name: str, rows: str, now: datetime) -> None:
    landing = root / "landing"
    landing.mkdir(exist_ok=True)
    (landing / "orders.csv").write_text(BASE_ORDERS)
    (landing / name).write_text(f"{CUSTOMERS_COLS}\n{rows}")
    report = ingest(landing, root / "segmint.duckdb", now=now)
    assert report.files_refused == 0 and report.rows_quarantined == 0, report.files


def _marketable(project: DbtProject) -> dict[str, bool]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        rows = con.execute(
            "select customer_id, is_marketable from marts.customer_targeting "
            "where customer_id in ('c1', 'c2') order by 1"
        ).fetchall()
    return dict(rows)


def test_old_file_does_not_regrant_revoked_consent(tmp_path: Path) -> None:
    project = DbtProject(tmp_path / "segmint.duckdb", tmp_path)
    # c1 revoked consent in May; c2 is a control that keeps its grant.
    _deliver(
        tmp_path,
        "customers_may.csv",
        customer("c1", marketing_consent="false", updated_at="2024-05-01T00:00:00")
        + customer("c2", marketing_consent="true", updated_at="2024-05-01T00:00:00"),
        datetime(2024, 5, 2, 6, 0),
    )
    project.run("seed")
    project.run("run", *SELECT)
    assert _marketable(project) == {"c1": False, "c2": True}

    # A re-delivered January file (consent granted back then) arrives a day later.
    _deliver(
        tmp_path,
        "customers_january_redelivered.csv",
        customer("c1", marketing_consent="true", updated_at="2024-01-10T00:00:00"),
        datetime(2024, 5, 3, 6, 0),
    )
    project.run("run", *SELECT)
    assert _marketable(project) == {"c1": False, "c2": True}, "incremental run re-granted"
    project.run("run", *SELECT, "--full-refresh")
    assert _marketable(project) == {"c1": False, "c2": True}, "full refresh re-granted"

    # Same updated_at as the revocation: the revocation stands. A newer grant undoes it.
    _deliver(
        tmp_path,
        "customers_tie.csv",
        customer("c1", marketing_consent="yes", updated_at="2024-05-01T00:00:00"),
        datetime(2024, 5, 4, 6, 0),
    )
    project.run("run", *SELECT)
    assert _marketable(project) == {"c1": False, "c2": True}, "a tie re-granted"
    _deliver(
        tmp_path,
        "customers_june.csv",
        customer("c1", marketing_consent="true", updated_at="2024-06-01T00:00:00"),
        datetime(2024, 6, 2, 6, 0),
    )
    project.run("run", *SELECT)
    assert _marketable(project) == {"c1": True, "c2": True}
