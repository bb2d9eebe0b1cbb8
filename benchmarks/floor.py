"""benchmarks/floor.sql against dbt's marts: the hand-written floor must agree with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

# floor.sql does no identity stitching: the columns that count a person's stitched device
# sessions (and customer_360's person columns) are not compared, and the floor's time does
# not include the identity graph.
STITCHED = frozenset(
    {
        "sessions_7d", "sessions_30d", "sessions_90d", "sessions_prev_30d",
        "days_since_last_visit", "product_views_90d", "cart_adds_90d", "view_to_cart_rate",
        "cart_to_purchase_rate", "engagement_trend", "person_id", "is_primary_record",
    }
)  # fmt: skip


def _common_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        """
        select d.column_name, d.data_type
        from information_schema.columns as d
        inner join information_schema.columns as f
            on d.column_name = f.column_name
            and f.table_schema = 'floor' and f.table_name = 'customer_360'
        where d.table_schema = 'marts' and d.table_name = 'customer_360'
        order by d.ordinal_position
        """
    ).fetchall()
    return [(r[0], r[1]) for r in rows if r[0] not in STITCHED]


def compare_floor(path: Path) -> dict[str, Any]:
    """Do floor.* and dbt's marts.* agree? Totals plus a per-column mismatch count."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        totals_sql = """
            select count(*), round(sum(monetary), 2), sum(frequency), count(rfm_class),
                   round(sum(historical_clv), 2)
            from {}.customer_360
        """
        keys = ["rows", "sum_monetary", "sum_frequency", "rfm_classified"]
        keys.append("sum_historical_clv")
        dbt_c = dict(zip(keys, con.execute(totals_sql.format("marts")).fetchone(), strict=True))
        flo_c = dict(zip(keys, con.execute(totals_sql.format("floor")).fetchone(), strict=True))
        demand_sql = """
            select count(*), round(sum(revenue), 2), sum(orders), sum(units) from {}.daily_demand
        """
        dkeys = ["rows", "sum_revenue", "sum_orders", "sum_units"]
        dbt_d = dict(zip(dkeys, con.execute(demand_sql.format("marts")).fetchone(), strict=True))
        flo_d = dict(zip(dkeys, con.execute(demand_sql.format("floor")).fetchone(), strict=True))
        cols = _common_columns(con)
        diffs = []
        for name, dtype in cols:
            if name == "customer_id":
                continue
            q = f'"{name}"'
            if dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
                cond = (
                    f"(d.{q} is null) <> (f.{q} is null) or abs(d.{q} - f.{q}) > "
                    f"1e-6 * greatest(1, abs(d.{q}))"
                )
            else:
                cond = f"d.{q} is distinct from f.{q}"
            diffs.append(f"count(*) filter (where {cond}) as {q}")
        mismatches = con.execute(
            f"""
            select count(*) filter (where f.customer_id is null) as missing_in_floor,
                   {", ".join(diffs)}
            from marts.customer_360 as d
            full join floor.customer_360 as f on d.customer_id = f.customer_id
            """
        ).fetchone()
        names = ["missing_in_floor"] + [n for n, _ in cols if n != "customer_id"]
        mismatch = {n: int(v) for n, v in zip(names, mismatches, strict=True) if v}
        dbt_only = [
            r[0]
            for r in con.execute(
                """
                select column_name from information_schema.columns
                where table_schema = 'marts' and table_name = 'customer_360'
                except
                select column_name from information_schema.columns
                where table_schema = 'floor' and table_name = 'customer_360'
                """
            ).fetchall()
            if r[0] not in STITCHED
        ]
    finally:
        con.close()
    agree = dbt_c == flo_c and dbt_d == flo_d and not mismatch and not dbt_only
    return {
        "agree": agree,
        "customer_360": {"dbt": dbt_c, "floor": flo_c},
        "daily_demand": {"dbt": dbt_d, "floor": flo_d},
        "columns_compared": len(cols),
        "not_compared_identity_stitching": sorted(STITCHED),
        "mismatched_rows_by_column": mismatch,
        "columns_missing_in_floor": dbt_only,
    }
