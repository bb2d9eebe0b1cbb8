"""Synthetic marts.customer_targeting rows and helpers shared by the activation tests."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from segmint import privacy
from segmint.activation.audience import audience_from_mapping

REPO = Path(__file__).resolve().parents[3]

TARGETING_TYPES = {
    "customer_id": "VARCHAR",
    "customer_key": "VARCHAR",
    "as_of_date": "DATE",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "city": "VARCHAR",
    "country": "VARCHAR",
    "postal_code": "VARCHAR",
    "marketing_consent": "BOOLEAN",
    "is_erased": "BOOLEAN",
    "monetary": "DOUBLE",
    "frequency": "BIGINT",
    "recency_days": "INTEGER",
    "tenure_days": "INTEGER",
    "rfm_monetary_score": "INTEGER",
    "rfm_class": "VARCHAR",
    "risk_band": "VARCHAR",
    "churn_probability": "DOUBLE",
    "acquisition_channel": "VARCHAR",
    "signup_date": "DATE",
    "signup_at": "TIMESTAMP",
    "is_vip": "BOOLEAN",
}
AS_OF = date(2024, 6, 30)
RFM = ["champions", "loyal_customers", "at_risk", "cant_lose", "new_customers", "lost"]
BANDS = ["low", "medium", "high", None]


def customer(i: int, rng: random.Random) -> dict[str, Any]:
    """One synthetic targeting row (erased rows have no contact data, like the mart)."""
    erased = i % 11 == 5
    consent = None if i % 13 == 0 else i % 4 != 0
    signup = date(2023, 1, 1) + timedelta(days=rng.randrange(540))
    row = {
        "customer_id": f"c{i:03d}",
        "customer_key": f"key{i:03d}",
        "as_of_date": AS_OF,
        "email": None if erased else f"User.{i}@Example.com",
        "phone": None if erased else f"(650) 555-{i:04d}",
        "first_name": None if erased else f"First{i}",
        "last_name": None if erased else f"Last{i}",
        "city": "Menlo Park",
        "country": "US",
        "postal_code": None if erased else "94025",
        "marketing_consent": consent,
        "is_erased": erased,
        "monetary": None if i % 9 == 0 else float(rng.randrange(0, 1000)),
        "frequency": rng.randrange(0, 12),
        "recency_days": rng.randrange(0, 400),
        "tenure_days": (AS_OF - signup).days,
        "rfm_monetary_score": rng.randrange(1, 6),
        "rfm_class": rng.choice(RFM),
        "risk_band": rng.choice(BANDS),
        "churn_probability": rng.random(),
        "acquisition_channel": rng.choice(["organic", "paid"]),
        "signup_date": signup,
        "signup_at": datetime(signup.year, signup.month, signup.day, 12),
        "is_vip": rng.random() < 0.3,
    }
    return row


def make_rows(n: int = 80, seed: int = 7) -> list[dict[str, Any]]:
    """n deterministic customers."""
    rng = random.Random(seed)
    return [customer(i, rng) for i in range(1, n + 1)]


def load_targeting(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """(Re)create marts.customer_targeting with the given rows."""
    con.execute("create schema if not exists marts")
    cols = ", ".join(f'"{c}" {t}' for c, t in TARGETING_TYPES.items())
    con.execute(f"create or replace table marts.customer_targeting ({cols})")
    marks = ", ".join("?" for _ in TARGETING_TYPES)
    con.executemany(
        f"insert into marts.customer_targeting values ({marks})",
        [[r[c] for c in TARGETING_TYPES] for r in rows],
    )


def eligible(row: dict[str, Any]) -> bool:
    """The rule the export path must enforce."""
    return bool(row["marketing_consent"]) and not row["is_erased"]


def audience(**overrides: Any):
    """A valid audience over the test table."""
    data: dict[str, Any] = {
        "name": "test_aud",
        "description": "test",
        "conditions": {"column": "frequency", "op": ">=", "value": 3},
        "columns": ["customer_id", "monetary"],
        "destinations": ["csv", "hubspot", "jsonl"],
        "holdout_share": 0.2,
    }
    data.update(overrides)
    return audience_from_mapping(data, "test_aud.yml")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def table_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


def write_yaml(folder: Path, name: str, data: Any) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def ids_in(path: Path, column: str = "customer_id") -> set[str]:
    return {r[column] for r in read_csv(path)}


class Boom(RuntimeError):
    pass


def ledger(con: duckdb.DuckDBPyConnection, *customer_ids: str) -> None:
    """Record customers in raw.erasure_ledger the way segmint forget does (keyed hash of
    the trimmed id, computed in Python here and matched in SQL by the export)."""
    key = privacy.prepare(con)
    privacy.ensure_ledgers(con, erased_at=True)
    for cid in customer_ids:
        con.execute("insert into raw.erasure_ledger values (?, now())", [key.identifier_hash(cid)])


def activation_rows(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, int]:
    """Rows per activation table that name this customer."""
    out = {}
    for table in ("audience_membership", "audience_run_members", "audience_holdout"):
        n = table_count(con, f"activation.{table} where customer_id = '{customer_id}'")
        if n:
            out[table] = n
    return out
