"""Postgres sync against a real PostgreSQL server started (and stopped) by the test session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import psycopg
import pytest

import segmint.activation.formats.postgres as pg_module
from segmint.activation import AudienceError, export_audience
from segmint.activation.audience import audience_from_mapping
from tests.postgres_server import PostgresInstance, postgres_server

pytestmark = pytest.mark.postgres

TYPES = {
    "customer_id": "VARCHAR",
    "customer_key": "VARCHAR",
    "as_of_date": "DATE",
    "email": "VARCHAR",
    "marketing_consent": "BOOLEAN",
    "is_erased": "BOOLEAN",
    "monetary": "DOUBLE",
    "frequency": "BIGINT",
    "rfm_class": "VARCHAR",
    "signup_date": "DATE",
}


def row(i: int, **changes: Any) -> dict[str, Any]:
    base = {
        "customer_id": f"c{i}",
        "customer_key": f"k{i}",
        "as_of_date": "2024-06-30",
        "email": f"user{i}@example.com",
        "marketing_consent": True,
        "is_erased": False,
        "monetary": 10.0 * i,
        "frequency": i,
        "rfm_class": "champions" if i % 2 else "loyal_customers",
        "signup_date": "2023-01-01",
    }
    base.update(changes)
    return base


def load(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    con.execute("create schema if not exists marts")
    cols = ", ".join(f"{c} {t}" for c, t in TYPES.items())
    con.execute(f"create or replace table marts.customer_targeting ({cols})")
    con.executemany(
        f"insert into marts.customer_targeting values ({', '.join('?' for _ in TYPES)})",
        [[r[c] for c in TYPES] for r in rows],
    )


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresInstance]:
    with postgres_server() as server:
        yield server


def audience(on_remove: str = "delete", table: str = "crm.segmint_vips"):
    return audience_from_mapping(
        {
            "name": "vips",
            "conditions": {"column": "frequency", "op": ">=", "value": 3},
            "columns": ["monetary", "rfm_class", "signup_date", "email"],
            "destinations": [
                {"format": "postgres", "table": table, "on_remove": on_remove, "dsn_env": "PG_DSN"}
            ],
        },
        "vips.yml",
    )


def pg_rows(pg: PostgresInstance, table: str) -> dict[str, tuple]:
    with psycopg.connect(pg.dsn) as conn:
        cur = conn.execute(
            f"select customer_key, monetary, rfm_class, signup_date::text, email, "
            f"segmint_is_member from {table} order by customer_key"
        )
        return {r[0]: r[1:] for r in cur.fetchall()}


def test_sync_upserts_removes_and_is_idempotent(pg: PostgresInstance) -> None:
    con = duckdb.connect()
    rows = [row(i) for i in range(1, 8)] + [row(8, marketing_consent=False)]
    load(con, rows)
    aud = audience()
    first = export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    assert first.status == "success" and first.exported == 5 and first.target
    state = pg_rows(pg, "crm.segmint_vips")
    assert sorted(state) == ["k3", "k4", "k5", "k6", "k7"]  # k8 has no consent
    assert state["k3"] == (30.0, "champions", "2023-01-01", "user3@example.com", True)

    again = export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    assert (again.exported, again.added, again.removed) == (0, 0, 0)
    assert pg_rows(pg, "crm.segmint_vips") == state
    full = export_audience(con, aud, "postgres", mode="full", dsn=pg.dsn)
    assert full.exported == 5 and pg_rows(pg, "crm.segmint_vips") == state

    # k3 leaves the audience, k4 withdraws consent, k5 is erased, k9 joins.
    rows[2]["frequency"] = 0
    rows[3]["marketing_consent"] = False
    rows[4].update(is_erased=True, email=None)
    rows.append(row(9))
    load(con, rows)
    delta = export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    assert (delta.added, delta.removed, delta.removed_erased) == (1, 3, 1)
    assert sorted(pg_rows(pg, "crm.segmint_vips")) == ["k6", "k7", "k9"]
    assert export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn).exported == 0
    assert sorted(pg_rows(pg, "crm.segmint_vips")) == ["k6", "k7", "k9"]


def test_flag_mode_keeps_rows_and_full_mode_repairs_drift(pg: PostgresInstance) -> None:
    con = duckdb.connect()
    rows = [row(i) for i in range(1, 6)]
    load(con, rows)
    aud = audience(on_remove="flag", table="public.vips_flagged")
    export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    rows[3]["frequency"] = 0  # k4 leaves
    rows[4].update(is_erased=True, email=None)  # k5 erased: deleted even in flag mode
    load(con, rows)
    export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    state = pg_rows(pg, "public.vips_flagged")
    assert sorted(state) == ["k3", "k4"]
    assert state["k3"][-1] is True and state["k4"][-1] is False
    # Someone edits the table behind our back; a full sync converges it again.
    with psycopg.connect(pg.dsn) as conn:
        conn.execute("delete from public.vips_flagged where customer_key = 'k3'")
        conn.execute(
            "insert into public.vips_flagged (customer_key, segmint_is_member) values ('zz', true)"
        )
    export_audience(con, aud, "postgres", mode="full", dsn=pg.dsn)
    state = pg_rows(pg, "public.vips_flagged")
    assert state["k3"][-1] is True and state["zz"][-1] is False and state["k4"][-1] is False


def test_failed_sync_rolls_back_and_keeps_state(pg: PostgresInstance, monkeypatch) -> None:
    con = duckdb.connect()
    load(con, [row(i) for i in range(1, 6)])
    aud = audience(table="public.vips_atomic")
    export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    before = pg_rows(pg, "public.vips_atomic")
    load(con, [row(i) for i in range(1, 8)])  # k6, k7 join

    original = pg_module._pg_value
    calls = {"n": 0}

    def failing(value: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 6:
            raise RuntimeError("network cable unplugged")
        return original(value)

    monkeypatch.setattr(pg_module, "_pg_value", failing)
    with pytest.raises(RuntimeError):
        export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    monkeypatch.undo()
    assert pg_rows(pg, "public.vips_atomic") == before  # the transaction rolled back
    members = con.execute(
        "select count(*) from activation.audience_membership where status = 'active'"
    ).fetchone()
    assert members == (3,)
    retry = export_audience(con, aud, "postgres", mode="delta", dsn=pg.dsn)
    assert retry.added == 2 and sorted(pg_rows(pg, "public.vips_atomic")) == [
        "k3",
        "k4",
        "k5",
        "k6",
        "k7",
    ]


def test_injection_in_values_reaches_postgres_as_data(pg: PostgresInstance) -> None:
    con = duckdb.connect()
    evil = "x'); DROP TABLE public.vips_evil; --"
    load(con, [row(3, email=evil), row(4, rfm_class=evil)])
    aud = audience(table="public.vips_evil")
    export_audience(con, aud, "postgres", mode="full", dsn=pg.dsn)
    state = pg_rows(pg, "public.vips_evil")
    assert state["k3"][3] == evil and state["k4"][1] == evil
    with pytest.raises(AudienceError):
        audience(table='vips"; drop table x; --')
