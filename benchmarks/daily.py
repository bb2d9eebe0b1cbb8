"""The benchmark's incremental daily run: age the full build's loads so the next run sees
one new day only, and land that day (orders, lines, events of existing customers)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.dbt_nodes import incremental_models
from segmint.project import dbt_manifest


def age_loads(warehouse: Path, days: int = 7) -> dict[str, int]:
    """Pretend the history was loaded `days` ago (before dbt's incremental lookback).

    The full build loads years of history at once, so right after it every row is "recent"
    and an incremental run would reprocess everything. A nightly run in steady state sees
    yesterday's file as the only new load: shift `_loaded_at` of the raw tables and of the
    incremental models' tables back consistently so the next run sees exactly that.
    """
    con = duckdb.connect(str(warehouse))
    shifted: dict[str, int] = {}
    try:
        raw_tables = con.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = '_loaded_at' and table_schema = 'raw'"
        ).fetchall()
        for schema, name in [*raw_tables, *incremental_models(dbt_manifest(warehouse))]:
            # base tables with a load time (identity_map, say, is incremental on other keys)
            exists = con.execute(
                "select count(*) from information_schema.tables t join information_schema.columns c"
                " using (table_schema, table_name) where t.table_schema = ? and t.table_name = ?"
                " and t.table_type = 'BASE TABLE' and c.column_name = '_loaded_at'",
                [schema, name],
            ).fetchone()[0]
            if not exists:
                continue
            n = con.execute(
                f'update "{schema}"."{name}" set _loaded_at = _loaded_at - interval {int(days)} day'
            ).fetchone()[0]
            shifted[f"{schema}.{name}"] = int(n)
    finally:
        con.close()
    return shifted


def land_next_day(warehouse: Path, landing: Path) -> dict[str, Any]:
    """Write one more day of orders, order_items and events for existing customers.

    The new day is the day after the data's last order: the last day's orders, lines and
    events are replayed one day later under new ids (same customers, products, sessions
    structure), so the files are valid per the contract and look like a real next day.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        last = con.execute("select max(cast(ordered_at as date)) from raw.orders").fetchone()[0]
        if last is None:
            raise RuntimeError("no orders to extend")
        day = last.isoformat()
        suffix = "_d" + last.strftime("%Y%m%d")
        outputs = {
            "orders": f"""
                select order_id || '{suffix}' as order_id, customer_id,
                       ordered_at + interval 1 day as ordered_at, status, channel, store_region,
                       total_amount, discount_amount, currency
                from raw.orders
                where cast(ordered_at as date) = date '{day}' and customer_id is not null
                qualify row_number() over (partition by order_id order by _loaded_at desc) = 1
            """,
            "order_items": f"""
                select i.order_id || '{suffix}' as order_id, i.product_id, i.quantity,
                       i.unit_price, i.discount_amount
                from raw.order_items as i
                where i.order_id in (
                    select order_id from raw.orders
                    where cast(ordered_at as date) = date '{day}' and customer_id is not null
                )
                qualify row_number() over (
                    partition by i.order_id, i.product_id order by i._loaded_at desc
                ) = 1
            """,
            "events": f"""
                select event_id || '{suffix}' as event_id, occurred_at + interval 1 day
                           as occurred_at,
                       event_type, customer_id, anonymous_id,
                       case when session_id is not null then session_id || '{suffix}' end
                           as session_id,
                       product_id, device, channel, properties
                from raw.events
                where cast(occurred_at as date) = date '{day}'
                qualify row_number() over (partition by event_id order by _loaded_at desc) = 1
            """,
        }
        rows = {}
        for table, sql in outputs.items():
            folder = landing / table
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{table}_day{suffix}.csv"
            con.execute(f"copy ({sql}) to '{target}' (header, delimiter ',')")
            rows[table] = con.execute(f"select count(*) from read_csv('{target}')").fetchone()[0]
    finally:
        con.close()
    return {"day": (last + timedelta(days=1)).isoformat(), "rows": rows}
