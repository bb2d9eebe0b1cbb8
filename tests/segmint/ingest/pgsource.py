"""A seeded operational Postgres for the ingest-from-Postgres tests.

Generated shop data (segmint.sample, clean) written once as CSV files (the "same data from
files") and copied into typed Postgres tables the way a shop's application would hold them:
one row per key, timestamps, numerics, booleans, jsonb, and the cursor columns an
application keeps (orders.updated_at, order_items.created_at). A login role with a
password (scram) reads them; everything else on the test server stays trust-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg

from segmint.settings import PostgresSource, SourceTable
from tests.postgres_server import PostgresInstance

PASSWORD = "Pw-9f3c-unlikely-TO-appear"
READER = "segmint_reader"

DDL = {
    "customers": """customer_id text primary key, email text, phone text, first_name text,
        last_name text, birth_date date, gender text, country text, city text,
        postal_code text, signup_at timestamp, acquisition_channel text,
        marketing_consent boolean, updated_at timestamp""",
    "products": """product_id text primary key, name text, category text, brand text,
        unit_price numeric(12,2), unit_cost numeric(12,2)""",
    "orders": """order_id text primary key, customer_id text not null, ordered_at timestamp,
        status text, channel text, store_region text, total_amount numeric(12,2),
        discount_amount numeric(12,2), currency text, updated_at timestamp""",
    "order_items": """order_id text, product_id text, quantity integer,
        unit_price numeric(12,2), discount_amount numeric(12,2), created_at timestamp""",
    "events": """event_id text primary key, occurred_at timestamp, event_type text,
        customer_id text, anonymous_id text, session_id text, product_id text, device text,
        channel text, properties jsonb""",
    "fx_rates": "date date, currency text, rate_to_base numeric(18,10)",
}
CURSORS = {
    "customers": "updated_at",
    "orders": "updated_at",
    "order_items": "created_at",
    "events": "occurred_at",
}


@dataclass(frozen=True)
class Seeded:
    server: PostgresInstance
    files: Path  # the same data as landing files, one CSV per table

    @property
    def dsn(self) -> str:
        s = self.server
        return f"postgresql://{READER}:{PASSWORD}@{s.host}:{s.port}/{s.dbname}"

    def execute(self, sql: str, params: list | None = None) -> None:
        with psycopg.connect(self.server.dsn, autocommit=True) as conn:
            conn.execute(sql, params)


def source(dsn_env: str = "TEST_SOURCE_DSN", **changes: SourceTable) -> PostgresSource:
    tables = {name: SourceTable(cursor=CURSORS.get(name)) for name in DDL}
    tables.update(changes)
    return PostgresSource(dsn_env=dsn_env, db_schema="shop", tables=tables)


def write_files(generated: Path, out: Path) -> Path:
    """One CSV per table from the generated landing; customers one row per id (newest)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for table in DDL:
        src = f"read_csv('{generated}/{table}/*.csv', all_varchar=true, header=true)"
        if table == "customers":
            src = f"(from {src} qualify row_number() over (partition by customer_id "
            src += "order by updated_at desc) = 1 order by customer_id)"
        con.execute(f"copy (from {src}) to '{out}/{table}.csv' (header, delimiter ',')")
    con.close()
    return out


def seed(server: PostgresInstance, files: Path) -> Seeded:
    """Create schema shop with the typed tables, copy the files in, add the reader role."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("create schema shop")
        for table, ddl in DDL.items():
            conn.execute(f"create table shop.{table} ({ddl})")
            path = files / f"{table}.csv"
            header = path.read_text().split("\n", 1)[0]
            with conn.cursor().copy(
                f"copy shop.{table} ({header}) from stdin with (format csv, header true)"
            ) as copy:
                copy.write(path.read_bytes())
        conn.execute("update shop.orders set updated_at = ordered_at")
        conn.execute(
            "update shop.order_items i set created_at = o.ordered_at "
            "from shop.orders o where o.order_id = i.order_id"
        )
        conn.execute(f"create role {READER} login password '{PASSWORD}'")
        conn.execute(f"grant usage on schema shop to {READER}")
        conn.execute(f"grant select on all tables in schema shop to {READER}")
        # The reader logs in with its password; the suite's superuser keeps trust.
        hba = server.data_dir / "pg_hba.conf"
        rule = f"host all {READER} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rule + hba.read_text())
        conn.execute("select pg_reload_conf()")
    return Seeded(server, files)
