"""No contact data outside the working warehouse and the export files meant for vendors.

Everything a full run leaves behind is searched for every generated customer's email and
phone: its stdout/stderr, the Dagster event log of the run (and the instance's storage
files), dbt's log and the run's dbt target folders (run_results, logs), the artifacts
folder including GX Data Docs and quality history, and every value of the published file.
Analyst-facing tables also must not have contact columns at all.

Data Docs render failing expectations with sample rows/values, so a check that fails on
contact columns would print them; one test makes the customer_targeting checks on erased
customers' contact fields fail on purpose and searches the Data Docs and check metadata.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tests.reliability.conftest import REPO

pytestmark = pytest.mark.timeout(1800)  # the first test waits for the shared pipeline run

CONTACT_COLUMNS = {"email", "phone", "first_name", "last_name", "postal_code"}


def contact_values(landing: Path) -> set[str]:
    """Every email and phone in the landing customers files (as written and lower-case)."""
    values: set[str] = set()
    for path in sorted((landing / "customers").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for col in ("email", "phone"):
                    v = (row.get(col) or "").strip()
                    if len(v) >= 7:
                        values.add(v.lower())
    return values


def find(text: str, needles: set[str]) -> list[str]:
    low = text.lower()
    return sorted(n for n in needles if n in low)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def dagster_logs(home: Path) -> tuple[str, list[str]]:
    """Every event-log entry of every run in the instance, serialized; and the run ids."""
    import dagster as dg
    from dagster._serdes import serialize_value

    chunks: list[str] = []
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run_ids = [r.run_id for r in instance.get_runs()]
        for run_id in run_ids:
            for entry in instance.all_logs(run_id):
                chunks.append(serialize_value(entry))
    finally:
        instance.dispose()
    return "\n".join(chunks), run_ids


@pytest.fixture(scope="module")
def needles(sample_landing) -> set[str]:
    values = contact_values(sample_landing)
    assert len(values) > 600  # ~400 customers x (email, phone)
    return values


def test_needles_are_really_in_the_working_warehouse(baseline, needles) -> None:
    # The search can find them where they legitimately are: raw customers and exports.
    with duckdb.connect(str(baseline.warehouse), read_only=True) as con:
        rows = con.execute("select email from raw.customers where email is not null").fetchall()
        emails = {r[0].lower() for r in rows}
    assert len(emails & needles) > 300
    sent = "\n".join(p.read_text(errors="replace") for p in files_under(baseline.exports))
    assert find(sent, needles)


def test_console_output_has_no_contact_data(baseline, needles) -> None:
    assert len(baseline.stdout) + len(baseline.stderr) > 1000
    assert find(baseline.stdout, needles) == []
    assert find(baseline.stderr, needles) == []


def test_dagster_event_log_has_no_contact_data(baseline, needles) -> None:
    text, run_ids = dagster_logs(baseline.dagster_home)
    assert run_ids and len(text) > 10_000
    assert "marts/customer_360" in text or "customer_360" in text
    assert find(text, needles) == []
    # The instance's storage files too (run/event/schedule databases), byte for byte.
    for path in files_under(baseline.dagster_home):
        assert find(path.read_bytes().decode("utf-8", "replace"), needles) == [], path


def test_dbt_logs_and_run_target_have_no_contact_data(baseline, needles) -> None:
    _, run_ids = dagster_logs(baseline.dagster_home)
    prefixes = {r[:7] for r in run_ids}
    # The run's dbt target folders: <warehouse dir>/dbt/runs/<step>/ (the prepare step's
    # layout) and its logs; older layouts kept them under dbt_project/target.
    dbt_dir = baseline.warehouse.parent / "dbt"
    target = REPO / "dbt_project" / "target"
    run_dirs = [d for d in (dbt_dir / "runs").glob("*") if d.is_dir()]
    run_dirs += [d for d in (dbt_dir / "logs",) if d.is_dir()]
    run_dirs += [
        d
        for d in (target.iterdir() if target.exists() else [])
        if d.is_dir() and len(d.name.split("-")) == 3 and d.name.split("-")[1] in prefixes
    ]
    assert run_dirs
    checked = 0
    for d in run_dirs:
        for path in files_under(d):
            if path.name in ("run_results.json", "sources.json") or path.suffix == ".log":
                assert find(path.read_text(errors="replace"), needles) == [], path
                checked += 1
    for log in (REPO / "dbt_project" / "logs").glob("*.log"):
        assert find(log.read_text(errors="replace"), needles) == [], log
    assert checked > 0


def test_artifacts_have_no_contact_data(baseline, needles) -> None:
    paths = files_under(baseline.artifacts)
    assert any("data_docs" in str(p) for p in paths)
    assert any(p.suffix == ".png" for p in paths)
    for path in paths:
        if path.suffix in (".png", ".otf", ".gif", ".ico", ".svg"):
            continue
        assert find(path.read_text(errors="replace"), needles) == [], path


def test_published_file_has_no_contact_columns_or_values(baseline, needles) -> None:
    with duckdb.connect(str(baseline.published), read_only=True) as con:
        cols = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database()"
        ).fetchall()
        leaked = [c for c in cols if c[2].lower() in CONTACT_COLUMNS]
        assert leaked == []
        tables = {(s, t) for s, t, _, _ in cols if s != "_segmint"}
        assert ("marts", "customer_360") in tables and ("marts", "customer_targeting") in tables
        con.execute("create temp table _n (n varchar)")
        con.executemany("insert into _n values (?)", [[n] for n in needles])
        for schema, table in sorted(tables):
            text_cols = [c for s, t, c, ty in cols if (s, t) == (schema, table) and ty == "VARCHAR"]
            for c in text_cols:
                (n,) = con.execute(
                    f'select count(*) from "{schema}"."{table}" t '
                    f'where lower(trim(t."{c}")) in (select n from _n)'
                ).fetchone()
                assert n == 0, (schema, table, c)


def test_failing_contact_checks_do_not_print_contact_data(tmp_path) -> None:
    """An erased customer who still has contact fields makes the customer_targeting
    checks fail; Data Docs and the check metadata must name the rows without the values."""
    from expectations.runner import validate

    db = tmp_path / "w.duckdb"
    email, phone = "leaky.person@example.org", "+44 20 7946 0999"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.customer_360 as select 'C1' as customer_id
            union all select 'C2'
            """
        )
        con.execute(
            """
            create table marts.customer_targeting (
                customer_id varchar, customer_key varchar, marketing_consent boolean,
                churn_probability double, risk_band varchar, segment_id integer,
                email varchar, phone varchar, first_name varchar, last_name varchar,
                postal_code varchar, is_erased boolean, is_marketable boolean)
            """
        )
        con.execute(
            "insert into marts.customer_targeting values "
            "('C1', 'k1', true, 0.5, 'medium', 1, ?, ?, 'Leaky', 'Person', 'AB1 2CD', true, true),"
            "('C2', 'k2', true, 0.2, 'low', 1, 'ok@example.org', '0555 000 000', 'Ok', 'Fine', "
            "'12345', false, true)",
            [email, phone],
        )
    docs = tmp_path / "docs"
    outcome = validate(db, "customer_targeting", docs_dir=docs, now=datetime(2026, 1, 1))
    assert outcome.blocking_failed  # the checks did fail
    failed = " ".join(f.expectation for f in outcome.errors)
    assert "erased customers carry no contact fields" in failed
    assert "non-erased customers are marketable" in failed
    secrets = {email, phone.lower(), "leaky", "ab1 2cd"}
    details = json.dumps([f.details for f in outcome.failed], default=str)
    assert find(details, secrets) == []
    assert find(json.dumps(outcome.metadata(), default=str), secrets) == []
    html = [p for p in files_under(docs) if p.suffix in (".html", ".json")]
    assert html
    for path in html:
        assert find(path.read_text(errors="replace"), secrets) == [], path
