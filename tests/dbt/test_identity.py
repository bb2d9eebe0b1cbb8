"""Identity stitching (#18) on a hand-made shop: e-mail duplicates merge, shared devices and
placeholder e-mails do not, person_id survives runs and the older id survives a merge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from segmint import privacy
from tests.dbt.helpers import DbtProject, make_warehouse

AS_OF = {"as_of": "2024-06-30"}
SELECT = ["--select", "+identity_merges", "+identity_conflicts", "--exclude-resource-type", "test"]
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
    the placeholder e-mail; Bob and Cy are separate people."""
    customers = [
        customer("C01", "Ann@Example.com"),
        customer("C02", "  ann@example.COM ", days=40),
        customer("C10", "noreply@shop.example", days=5),
        customer("C11", "noreply@shop.example", days=6),
        customer("C20", "bob@example.com", days=1),
        customer("C21", "cy@example.com", days=2, phone="+49 (30) 555-0101"),
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
    project.build(*SELECT, vars=AS_OF)
    first = persons(project)
    conflicts = project.query(
        "select identifier_type, identifier_hash, conflict_reason, degree "
        "from marts.identity_conflicts"
    )
    ann_phone = project.query(
        "select person_id from marts.identity_map "
        f"where identifier_hash = {privacy.keyed_sql(repr('ann-phone'))}"
    )
    # Cy registers again with Bob's e-mail and her own phone: Bob's and Cy's persons merge
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


def test_anonymous_device_attaches_to_its_one_person(stitched) -> None:
    assert stitched["ann_phone"] == [(stitched["first"]["C01"],)]


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
