"""fct_sessions rebuilds only the sessions new events touch, and an incremental run after late
events, re-delivered events and an erasure leaves exactly what a full refresh builds."""

from __future__ import annotations

from datetime import timedelta

from segmint.erasure import forget
from segmint.settings import Settings
from tests.dbt.helpers import END, LOADED_AT, DbtProject, synthetic_shop
from tests.dbt.test_dbt_project import BUILT_RELATIONS, NO_TESTS

# beyond the lookback (var lookback_days = 3): only the late rows are new to the run
LATER = LOADED_AT + timedelta(days=4)


def shop_with_shared_session() -> dict[str, list[dict]]:
    """The synthetic shop plus a session two customers and a shared device's anonymous
    visit are in, a device both C0005 and C0006 used, and an event without any actor."""
    data = synthetic_shop(customers=30, seed=11)
    day = END - timedelta(days=60)
    shared = {"session_id": "S_SHARED", "event_type": "page_view", "device": "mobile"}
    data["events"] += [
        {"event_id": "SH1", "occurred_at": day, "customer_id": "C0005", "anonymous_id": "A_SH"}
        | shared,
        {"event_id": "SH2", "occurred_at": day + timedelta(minutes=3), "anonymous_id": "A_SH"}
        | shared,
        {"event_id": "SH3", "occurred_at": day + timedelta(minutes=5), "customer_id": "C0007"}
        | shared,
        {
            "event_id": "SH4",
            "occurred_at": day - timedelta(days=1),
            "event_type": "page_view",
            "customer_id": "C0006",
            "anonymous_id": "A_SH",
        },
        {"event_id": "SELF1", "occurred_at": END - timedelta(days=50), "event_type": "page_view"},
    ]
    return data


def late_events(project: DbtProject) -> list[dict]:
    """A late event at the start of an old given session, one extending an inactivity
    session (old events below the watermark, the new one above), an event re-delivered into
    another given session and the actor-less event re-delivered with a device."""
    sid, cid, started = project.query(
        "select session_key, customer_id, session_started_at from marts.fct_sessions"
        " where session_source = 'given' and customer_id is not null and session_key <> 'S_SHARED'"
        " order by session_started_at limit 1"
    )[0]
    cid2, ended = project.query(
        "select customer_id, session_ended_at from marts.fct_sessions"
        " where session_source = 'inactivity' and customer_id is not null"
        " and cast(session_ended_at + interval 10 minute as date) = session_date"
        " order by session_started_at desc limit 1"
    )[0]
    moved_id, moved_at, moved_cid = project.query(
        "select event_id, occurred_at, customer_id from staging.stg_raw__events"
        " where session_id in (select session_key from marts.fct_sessions"
        "   where session_source = 'given' and events >= 3 and session_key <> ?)"
        " order by event_id limit 1",
        [sid],
    )[0]
    return [
        {
            "event_id": "LATE_OLD",
            "occurred_at": started - timedelta(minutes=2),
            "event_type": "page_view",
            "customer_id": cid,
            "session_id": sid,
        },
        {
            "event_id": "LATE_EXTEND",
            "occurred_at": ended + timedelta(minutes=10),
            "event_type": "product_view",
            "customer_id": cid2,
            "product_id": "P001",
        },
        {
            "event_id": moved_id,
            "occurred_at": moved_at,
            "event_type": "page_view",
            "customer_id": moved_cid,
            "session_id": "S_MOVED_TO",
        },
        {
            "event_id": "SELF1",
            "occurred_at": END - timedelta(days=50),
            "event_type": "page_view",
            "anonymous_id": "A_SELF",
        },
    ]


def planned_writes(project: DbtProject) -> dict[str, bool]:
    """session_key -> is a tombstone, of the rows fct_sessions' next incremental run writes
    (its compiled SQL, run against the warehouse as it is now)."""
    result = project.run("compile", "--quiet", "--select", "fct_sessions")
    (sql,) = [r.node.compiled_code for r in result.result.results if r.node.name == "fct_sessions"]
    return dict(project.query(f"select session_key, session_started_at is null from ({sql})"))


def test_late_events_rewrite_only_their_sessions_and_erasure_equals_full_refresh(
    dbt_factory,
):
    project = dbt_factory(shop_with_shared_session())
    project.build(*NO_TESTS)
    sessions = project.scalar("select count(*) from marts.fct_sessions")
    (self_session,) = project.query(
        "select session_key from intermediate.int_events_sessionized where event_id = 'SELF1'"
    )[0]
    rows = late_events(project)
    project.insert("events", [r | {"_loaded_at": LATER} for r in rows], source_file="late.csv")

    # the old given session, the extended one, the moved event's two sessions, the actor-less
    # event's new session and its old one (a tombstone), and nothing else
    project.build(*NO_TESTS, "--select", "+int_events_sessionized")  # what fct_sessions reads
    planned = planned_writes(project)
    assert len(planned) <= 6 < sessions // 10
    assert planned[self_session] is True
    assert {rows[0]["session_id"], "S_MOVED_TO"} <= {k for k, gone in planned.items() if not gone}
    project.build(*NO_TESTS)  # incremental
    assert self_session not in dict(project.query("select session_key, 1 from marts.fct_sessions"))
    assert (
        project.scalar(
            "select session_started_at from marts.fct_sessions where session_key = ?",
            [rows[0]["session_id"]],
        )
        == rows[0]["occurred_at"]
    )

    workdir = project.warehouse.parent
    settings = Settings(
        warehouse=project.warehouse,
        landing=workdir / "landing",
        exports=workdir / "exports",
        artifacts=workdir / "artifacts",
    )
    forget(settings, customer_id="C0005", live_runs=list)
    project.build(*NO_TESTS)  # incremental, after the erasure
    # the shared session lost C0005's event only: C0007's and the device's remain
    assert project.query(
        "select customer_id, anonymous_id, events from marts.fct_sessions"
        " where session_key = 'S_SHARED'"
    ) == [("C0007", "A_SH", 2)]
    assert not project.scalar(
        "select count(*) from intermediate.int_inactivity_sessions"
        " where actor_key = 'customer:C0005'"
    )
    incremental = {r: project.checksum(r) for r in BUILT_RELATIONS}

    project.build("--full-refresh")  # with tests: the incremental state must also be green
    assert {r: project.checksum(r) for r in BUILT_RELATIONS} == incremental
