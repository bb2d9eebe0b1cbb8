"""Helpers for dbt tests: temp DuckDB warehouses with raw tables, dbt runs in process, data."""

from __future__ import annotations

import functools
import json
import os
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from dbt.cli.main import dbtRunner, dbtRunnerResult

from segmint import privacy
from segmint.contract import EVENT_TYPES, RAW_META_COLUMNS, TABLES

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
LOADED_AT = datetime(2024, 7, 1, 6, 0, 0)
END = datetime(2024, 6, 30, 23, 0, 0)


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every contract table in schema raw (contract columns + lineage columns)."""
    con.execute("create schema if not exists raw")
    for table in TABLES.values():
        cols = [*table.columns, *RAW_META_COLUMNS]
        ddl = ", ".join(f'"{c.name}" {c.type}' for c in cols)
        con.execute(f"create table if not exists raw.{table.name} ({ddl})")


def insert_raw(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: Iterable[dict[str, Any]],
    loaded_at: datetime = LOADED_AT,
    source_file: str = "test.csv",
) -> int:
    """Insert rows (dicts of contract columns; missing ones are null) into raw.<table>."""
    spec = TABLES[table]
    names = [*spec.column_names, "_source_file", "_source_line", "_file_hash", "_loaded_at"]
    values = []
    for i, row in enumerate(rows, start=1):
        unknown = set(row) - set(spec.column_names) - {"_loaded_at", "_source_file"}
        assert not unknown, f"unknown columns for {table}: {unknown}"
        values.append(
            [row.get(c) for c in spec.column_names]
            + [row.get("_source_file", source_file), i, "hash", row.get("_loaded_at", loaded_at)]
        )
    if values:
        placeholders = ", ".join("?" for _ in names)
        cols = ", ".join(f'"{n}"' for n in names)
        con.executemany(f"insert into raw.{table} ({cols}) values ({placeholders})", values)
    return len(values)


def make_warehouse(path: Path, data: dict[str, list[dict[str, Any]]]) -> Path:
    """A DuckDB file with all five raw tables (empty unless given rows) and the hash key."""
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con)
        privacy.prepare(con)  # the hash key's pads, read by the keyed_hash macro
        for table, rows in data.items():
            insert_raw(con, table, rows)
    return path


@dataclass
class DbtProject:
    """Runs dbt in process against one warehouse file with its own target/log folders
    (`target`: a profiles.yml target, e.g. spark; default: the engine setting's)."""

    warehouse: Path
    workdir: Path
    target: str | None = None

    def run(self, *args: str, vars: dict[str, Any] | None = None, check: bool = True):
        target = self.workdir / "target"
        argv = [
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target),
            "--log-path",
            str(self.workdir / "logs"),
        ]
        if vars:
            argv += ["--vars", json.dumps(vars)]
        if self.target:
            argv += ["--target", self.target]
        old = os.environ.get("SEGMINT_WAREHOUSE")
        os.environ["SEGMINT_WAREHOUSE"] = str(self.warehouse)
        try:
            result: dbtRunnerResult = dbtRunner().invoke(argv)
        finally:
            if old is None:
                os.environ.pop("SEGMINT_WAREHOUSE", None)
            else:
                os.environ["SEGMINT_WAREHOUSE"] = old
        if check:
            failures = _failures(result)
            assert result.success, f"dbt {' '.join(args)} failed: {failures or result.exception}"
        return result

    def build(self, *extra: str, vars: dict[str, Any] | None = None, check: bool = True):
        return self.run("build", *extra, vars=vars, check=check)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse)) as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.query(sql, params)[0][0]

    def insert(self, table: str, rows: list[dict[str, Any]], **kwargs: Any) -> None:
        with duckdb.connect(str(self.warehouse)) as con:
            insert_raw(con, table, rows, **kwargs)

    def checksum(self, relation: str) -> tuple[int, str]:
        """(row count, order-independent hash of all rows) of a relation; floating point
        columns are rounded to 6 decimals (summation order may change the last bits)."""
        schema, name = relation.split(".")
        with duckdb.connect(str(self.warehouse)) as con:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            assert cols, f"{relation} has no columns"
            exprs = ", ".join(
                f'round("{c}", 6)' if t in ("DOUBLE", "FLOAT", "REAL") else f'"{c}"'
                for c, t in cols
            )
            row = con.execute(
                f"select count(*), coalesce(sum(hash(row({exprs}))), 0)::varchar from {relation}"
            ).fetchone()
            return int(row[0]), str(row[1])


@functools.cache
def compiled_model_sql(model: str, vars_json: str = "{}") -> str:
    """The SQL dbt compiles for `model`, with relations named "schema"."table" (no catalog).

    For tests that run a model's real SQL over small frames in an in-memory DuckDB (create
    the schemas and tables it reads, then execute this). Compiled once per process.
    """
    with tempfile.TemporaryDirectory(prefix="segmint-compile-") as tmp:
        project = DbtProject(warehouse=Path(tmp) / "compiled.duckdb", workdir=Path(tmp))
        result = project.run("compile", "--quiet", "--select", model, vars=json.loads(vars_json))
        nodes = [r.node for r in result.result.results if r.node.name == model]
        assert len(nodes) == 1, f"dbt compile --select {model} gave {len(nodes)} nodes"
        return nodes[0].compiled_code.replace('"compiled".', "")


def _failures(result: dbtRunnerResult) -> list[str]:
    out = []
    for r in getattr(result.result, "results", None) or []:
        status = str(getattr(r, "status", ""))
        if status.lower() in {"error", "fail", "runtime error"}:
            out.append(f"{r.node.unique_id}: {status}: {r.message}")
    return out


# ---------------------------------------------------------------------------------------------
# A small synthetic shop: enough variety for every mart (and dirt: duplicates across loads,
# odd enum spellings, orphan lines, anonymous and given-session events).
# ---------------------------------------------------------------------------------------------

CATEGORIES = ["Home & Garden", "Toys", "Electronics", "Beauty"]


def synthetic_shop(customers: int = 40, days: int = 200, seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    start = END - timedelta(days=days)
    genders = ["F", "m", "Female", "male", "w", None, "x"]
    countries = ["de", "Germany", "US", "usa", "fr", None]
    data: dict[str, list[dict]] = {t: [] for t in TABLES}
    products = []
    for p in range(12):
        price = round(rng.uniform(5, 120), 2)
        products.append(
            {
                "product_id": f"P{p:03d}",
                "name": f"Product {p}",
                "category": CATEGORIES[p % len(CATEGORIES)],
                "brand": f"Brand {p % 3}",
                "unit_price": price,
                "unit_cost": round(price * 0.6, 2),
            }
        )
    data["products"] = products
    order_n = 0
    event_n = 0
    for c in range(customers):
        cid = f"C{c:04d}"
        signup = start + timedelta(days=rng.randint(0, days - 10), hours=rng.randint(0, 23))
        data["customers"].append(
            {
                "customer_id": cid,
                "email": f"user{c}@example.com",
                "phone": f"+4917{c:07d}",
                "first_name": "Ann",
                "last_name": "Example",
                "birth_date": date(1960 + c % 45, 1 + c % 12, 1 + c % 27),
                "gender": genders[c % len(genders)],
                "country": countries[c % len(countries)],
                "city": "Berlin",
                "postal_code": "10115",
                "signup_at": signup,
                "acquisition_channel": rng.choice(["Organic", "paid_search", " email "]),
                "marketing_consent": c % 3 != 0,
                "updated_at": signup,
            }
        )
        for _ in range(rng.randint(0, 6)):
            order_n += 1
            oid = f"O{order_n:05d}"
            ordered = signup + timedelta(
                days=rng.randint(0, max(0, (END - signup).days - 1)),
                minutes=rng.randint(0, 600),
            )
            lines = rng.sample(products, rng.randint(1, 3))
            total = 0.0
            for p in lines:
                qty = rng.randint(1, 3)
                disc = round(rng.choice([0, 0, 1.5]), 2)
                total += qty * p["unit_price"] - disc
                data["order_items"].append(
                    {
                        "order_id": oid,
                        "product_id": p["product_id"],
                        "quantity": qty,
                        "unit_price": p["unit_price"],
                        "discount_amount": disc,
                    }
                )
            data["orders"].append(
                {
                    "order_id": oid,
                    "customer_id": cid,
                    "ordered_at": ordered,
                    "status": rng.choice(["completed"] * 6 + ["Cancelled", " returned "]),
                    "channel": rng.choice(["web", "app", "store"]),
                    "store_region": rng.choice(["north", "south"]),
                    "total_amount": round(total, 2),
                    "discount_amount": 0.0,
                    "currency": "eur",
                }
            )
            # checkout visit that led to the order
            sid = f"S{order_n:05d}" if order_n % 2 else None
            for k, etype in enumerate(["page_view", "product_view", "add_to_cart", "purchase"]):
                event_n += 1
                data["events"].append(
                    {
                        "event_id": f"E{event_n:06d}",
                        "occurred_at": ordered - timedelta(minutes=10 - 3 * k),
                        "event_type": etype.upper() if k == 0 else etype,
                        "customer_id": cid,
                        "session_id": sid,
                        "product_id": lines[0]["product_id"] if k else None,
                        "device": "mobile",
                        "channel": "web",
                    }
                )
        # browsing visits without a session id, emails
        for _ in range(rng.randint(0, 8)):
            t = signup + timedelta(days=rng.randint(0, max(0, (END - signup).days - 1)))
            for k in range(rng.randint(1, 4)):
                event_n += 1
                data["events"].append(
                    {
                        "event_id": f"E{event_n:06d}",
                        "occurred_at": t + timedelta(minutes=7 * k + rng.randint(0, 40) * (k == 2)),
                        "event_type": rng.choice(["page_view", "product_view", "add_to_cart"]),
                        "customer_id": cid,
                        "product_id": rng.choice(products)["product_id"],
                        "device": rng.choice(["Desktop", "mobile"]),
                        "channel": "web",
                    }
                )
        for _ in range(rng.randint(0, 5)):
            t = signup + timedelta(days=rng.randint(0, max(0, (END - signup).days - 1)))
            for k, etype in enumerate(
                ["email_send", "email_open", "email_click"][: rng.randint(1, 3)]
            ):
                event_n += 1
                data["events"].append(
                    {
                        "event_id": f"E{event_n:06d}",
                        "occurred_at": t + timedelta(hours=k),
                        "event_type": etype,
                        "customer_id": cid,
                        "channel": "email",
                    }
                )
    # anonymous visitors
    for a in range(10):
        t = start + timedelta(days=rng.randint(0, days - 1), hours=rng.randint(0, 23))
        for k in range(3):
            event_n += 1
            data["events"].append(
                {
                    "event_id": f"E{event_n:06d}",
                    "occurred_at": t + timedelta(minutes=5 * k),
                    "event_type": "page_view",
                    "anonymous_id": f"A{a:03d}",
                    "device": "desktop",
                }
            )
    # dirt: an orphan order line (unknown product), a customer seen only in orders,
    # and a re-delivered order (same key, later load, corrected amount) -> latest wins
    data["order_items"].append(
        {"order_id": "O00001", "product_id": "P999", "quantity": 1, "unit_price": 3.0}
    )
    data["orders"].append(
        {
            "order_id": "O99999",
            "customer_id": "C_ORDERS_ONLY",
            "ordered_at": END - timedelta(days=3),
            "status": "completed",
            "channel": "web",
            "store_region": "north",
            "total_amount": 42.0,
            "discount_amount": 0.0,
            "currency": "EUR",
        }
    )
    redelivered = dict(data["orders"][0])
    redelivered["total_amount"] = 1000.0
    redelivered["_loaded_at"] = LOADED_AT + timedelta(hours=1)
    data["orders"].append(redelivered)
    assert set(EVENT_TYPES) >= {e["event_type"].lower() for e in data["events"]}
    return data
