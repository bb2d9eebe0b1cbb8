"""Identity stitching (#18) on a hand-made shop: e-mail duplicates merge, shared devices and
placeholder e-mails do not, person_id survives runs and the older id survives a merge."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from segmint import privacy
from segmint.erasure import forget
from segmint.ingest import ingest as ingest_files
from tests.conftest import make_settings
from tests.dbt.helpers import DbtProject, make_warehouse

AS_OF = {"as_of": "2024-06-30"}
SELECT = ["--exclude-resource-type", "test", "--select", "+identity_merges", "+identity_conflicts"]
T0 = datetime(2024, 1, 1, 10)


def customer(cid: str, email: str | None, days: int = 0, phone: str | None = None, **kw) -> dict:
    return {
        "customer_id": cid,
        "email": email,
        "phone": phone,
        "country": "DE",
        "signup_at": T0 + timedelta(days=days),
        "updated_at": T0 + timedelta(days=days),
        "marketing_consent": kw.get("consent", True),
    }


def event(eid: str, at: datetime, etype: str, cid: str | None, anon: str | None, sess: str) -> dict:
    return {
        "event_id": eid,
        "occurred_at": at,
        "event_type": etype,
        "customer_id": cid,
        "anonymous_id": anon,
        "session_id": sess,
        "device": "mobile",
        "channel": "web",
    }


def shop() -> dict[str, list[dict[str, Any]]]:
    """Ann has two records (e-mail in another case, with spaces) and a phone she browsed on
    anonymously before logging in; seven customers log in on a store kiosk; two guests left
    the placeholder e-mail; Bob (an e-mail) and C21 (a phone only) look like two people; Dana
    and Eli share a household phone but have their own e-mails."""
    customers = [
        customer("C01", "Ann@Example.com"),
        customer("C02", "  ann@example.COM ", days=40),
        customer("C10", "noreply@shop.example", days=5),
        customer("C11", "noreply@shop.example", days=6),
        customer("C20", "bob@example.com", days=1),
        customer("C21", None, days=2, phone="+49 (30) 555-0101"),
        customer("C40", "dana@example.com", days=4, phone="030 5550199"),
        customer("C41", "eli@example.com", days=4, phone="0305550199"),
    ] + [customer(f"C3{i}", f"k{i}@example.com", days=3) for i in range(7)]
    events = [
        event("E1", datetime(2024, 6, 1, 9), "page_view", None, "ann-phone", "S1"),
        event("E2", datetime(2024, 6, 3, 9), "page_view", None, "ann-phone", "S2"),
        event("E3", datetime(2024, 6, 10, 9), "login", "C02", "ann-phone", "S3"),
        event("E4", datetime(2024, 6, 10, 9, 5), "page_view", "C02", "ann-phone", "S3"),
    ] + [
        event(f"K{i}", datetime(2024, 6, 1 + i, 12), "login", f"C3{i}", "kiosk-1", f"SK{i}")
        for i in range(7)
    ]
    orders = [
        {"order_id": "O1", "customer_id": "C01", "ordered_at": datetime(2024, 6, 20, 12),
         "status": "completed", "channel": "web", "total_amount": 30, "currency": "EUR"},
    ]  # fmt: skip
    return {"customers": customers, "events": events, "orders": orders}


def persons(project) -> dict[str, str]:
    """person_id per customer_id (through the keyed hash in the map)."""
    rows = project.query(
        f"""
        select c.customer_id, m.person_id
        from (select distinct customer_id from raw.customers) c
        join marts.identity_map m
          on m.identifier_type = 'customer_id'
         and m.identifier_hash = {privacy.keyed_sql("c.customer_id")}
        """
    )
    return dict(rows)


@pytest.fixture(scope="module")
def stitched(tmp_path_factory) -> dict[str, Any]:
    """The shop stitched, then a merge and a run without changes (three dbt runs, shared by
    the tests: read-only use)."""
    workdir = tmp_path_factory.mktemp("identity")
    project = DbtProject(make_warehouse(workdir / "segmint.duckdb", shop()), workdir)
    project.build(*SELECT, "+customer_targeting", vars=AS_OF)
    first = persons(project)
    marts = project.query(
        "select c.customer_id, c.sessions_30d, c.is_primary_record, t.marketing_consent, t.email "
        "from marts.customer_360 c join marts.customer_targeting t using (customer_id) "
        "where customer_id in ('C01', 'C02') order by 1"
    )
    conflicts = project.query(
        "select identifier_type, identifier_hash, conflict_reason, degree "
        "from marts.identity_conflicts"
    )
    ann_phone = project.query(
        "select person_id from marts.identity_map "
        f"where identifier_hash = {privacy.keyed_sql(repr('ann-phone'))}"
    )
    # a record with Bob's e-mail and C21's phone shows they are one person: the two merge
    project.insert(
        "customers",
        [customer("C22", "BOB@example.com", days=50, phone="+4930 5550101")],
        loaded_at=datetime(2024, 7, 2, 6),
    )
    project.build(*SELECT, vars=AS_OF)
    second = persons(project)
    merges = project.query("select merged_person_id, person_id from marts.identity_merges")
    project.build(*SELECT, vars=AS_OF)
    return {
        "project": project,
        "first": first,
        "marts": marts,
        "conflicts": conflicts,
        "ann_phone": ann_phone,
        "second": second,
        "merges": merges,
        "third": persons(project),
        "merges_third": project.scalar("select count(*) from marts.identity_merges"),
    }


def test_email_duplicates_in_other_case_and_with_spaces_are_one_person(stitched) -> None:
    p = stitched["first"]
    assert p["C01"] == p["C02"]
    assert len({p["C20"], p["C21"], p["C01"]}) == 3


def test_a_kiosk_device_does_not_merge_its_users_and_is_a_conflict(stitched) -> None:
    p = stitched["first"]
    assert len({p[f"C3{i}"] for i in range(7)}) == 7
    kiosk = stitched["project"].scalar(f"select {privacy.keyed_sql(repr('kiosk-1'))}")
    devices = [c for c in stitched["conflicts"] if c[0] == "anonymous_id"]
    assert devices == [("anonymous_id", kiosk, "several_persons", 7)]


def test_placeholder_emails_never_merge(stitched) -> None:
    p = stitched["first"]
    assert p["C10"] != p["C11"]
    emails = [c[2:] for c in stitched["conflicts"] if c[0] == "email"]
    assert emails == [("placeholder", 2)]


def test_a_household_phone_does_not_merge_people_with_their_own_emails(stitched) -> None:
    p = stitched["first"]
    assert p["C40"] != p["C41"]
    phones = [c[2:] for c in stitched["conflicts"] if c[0] == "phone"]
    assert phones == [("several_persons", 2)]


def test_anonymous_device_attaches_to_its_one_person(stitched) -> None:
    assert stitched["ann_phone"] == [(stitched["first"]["C01"],)]


def test_stitched_browsing_counts_and_exports_send_one_row_per_person(stitched) -> None:
    # Ann's phone browsed twice before she logged in (on her second record): both sessions
    # count for her primary record; only that record is marketable, with the contact data of
    # her most recently updated consented record
    assert stitched["marts"] == [
        ("C01", 2, True, True, "ann@example.com"),
        ("C02", 1, False, False, "ann@example.com"),
    ]


def test_person_id_is_stable_and_the_older_id_survives_a_merge(stitched) -> None:
    before, after = stitched["first"], stitched["second"]
    assert {k: after[k] for k in before if k != "C21"} == {
        k: v for k, v in before.items() if k != "C21"
    }
    assert after["C21"] == after["C20"] == after["C22"] == before["C20"]  # Bob signed up first
    assert stitched["merges"] == [(before["C21"], before["C20"])]
    # a run without changes keeps every id and records no new merge
    assert stitched["third"] == after
    assert stitched["merges_third"] == 1


def test_erasure_follows_the_graph_and_redelivered_identifiers_stay_out(
    stitched, tmp_path: Path
) -> None:
    """Forgetting Ann by one record removes her other record and her phone's browsing; a
    file that brings back her e-mail on a new record, or her phone's events, stays out."""
    source = stitched["project"].warehouse
    root = tmp_path / "erase"
    (root / "warehouse").mkdir(parents=True)
    for name in ("segmint.duckdb", "segmint.key"):
        if (source.parent / name).exists():
            shutil.copy(source.parent / name, root / "warehouse" / name)
    settings = make_settings(root, landing=root / "landing")
    report = forget(settings, customer_id="C01", live_runs=lambda: [])
    assert len(report.customer_id_hashes) == 2  # C01 and its duplicate C02
    assert report.identifiers_recorded.get("anonymous_id") == 1
    assert report.identifiers_recorded.get("email") == 1
    db = settings.warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.customers where customer_id in ('C01', 'C02')"
        ).fetchone() == (0,)
        assert con.execute(
            "select count(*) from raw.events where anonymous_id = 'ann-phone'"
        ).fetchone() == (0,)
        left = con.execute(
            "select count(*) from marts.identity_map where person_id = ?",
            [stitched["first"]["C01"]],
        ).fetchone()
        assert left == (0,)
        # the kiosk belongs to nobody: its other users keep their rows
        assert con.execute(
            "select count(*) from raw.events where anonymous_id = 'kiosk-1'"
        ).fetchone() == (7,)
    landing = root / "landing"
    landing.mkdir()
    (landing / "customers.csv").write_text(
        "customer_id,email,signup_at\nC99, ANN@Example.com ,2024-06-01 10:00:00\n"
        "C98,new@example.com,2024-06-01 10:00:00\n"
    )
    (landing / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,status,total_amount,currency\n"
        "O98,C98,2024-06-02 10:00:00,completed,12.50,EUR\n"
    )
    (landing / "events.csv").write_text(
        "event_id,occurred_at,event_type,anonymous_id\nE9,2024-06-02 10:00:00,page_view,ann-phone\n"
    )
    ingest_files(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select customer_id from raw.customers where customer_id in ('C98', 'C99')"
        ).fetchall() == [("C98",)]
        assert con.execute("select count(*) from raw.events where event_id = 'E9'").fetchone() == (
            0,
        )
        assert con.execute(
            "select count(*) from quarantine.customers where _reason like '%erased_customer%'"
        ).fetchone() == (1,)
