"""Ingest of money (#14.1, #14.2): fx_rates is a contract table like the others, amounts
land as DECIMAL with cents, rates as DECIMAL; bad rates are quarantined with a reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.ingest import LOADED, ingest

NOW = datetime(2024, 6, 1, 12, 0, 0)


def _rows(wh: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_fx_rates_load_typed_and_bad_rates_are_quarantined(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "fx_rates").mkdir(parents=True)
    (landing / "orders").mkdir()
    (landing / "fx_rates" / "fx_rates_2024.csv").write_text(
        "date,currency,rate_to_base\n"
        "2024-01-01,GBP,1.1712345678\n"
        "2024-02-01,gbp,1.17\n"
        "2024-01-01,JPY,0.0061234\n"
        "2024-03-01,GBP,abc\n"
        "2024-03-01,USD,-0.9\n"
        "2024-03-01,,0.9\n"
    )
    (landing / "orders" / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,total_amount,discount_amount,currency\n"
        "o1,c1,2024-01-05T10:00:00,1490.0000000000002,0.1,GBP\n"
        "o2,c1,2024-01-06T10:00:00,142693.86,0,EUR\n"
    )
    wh = tmp_path / "wh.duckdb"
    report = ingest(landing, wh, now=NOW)

    fx = next(f for f in report.files if Path(f.file).name == "fx_rates_2024.csv")
    assert fx.status == LOADED
    assert (fx.rows_read, fx.rows_loaded, fx.rows_quarantined) == (6, 3, 3)
    assert _rows(wh, "select date, currency, rate_to_base from raw.fx_rates order by 1, 2") == [
        (date(2024, 1, 1), "GBP", Decimal("1.1712345678")),
        (date(2024, 1, 1), "JPY", Decimal("0.0061234000")),
        (date(2024, 2, 1), "gbp", Decimal("1.1700000000")),
    ]
    reasons = sorted(r[0] for r in _rows(wh, "select _reason from quarantine.fx_rates"))
    assert reasons == [
        "invalid_type:rate_to_base",
        "missing_required:currency",
        "negative_value:rate_to_base",
    ]
    types = dict(
        _rows(
            wh,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and column_name in "
            "('total_amount', 'discount_amount', 'unit_price', 'unit_cost', 'rate_to_base')",
        )
    )
    assert types == {
        "orders.total_amount": "DECIMAL(18,2)",
        "orders.discount_amount": "DECIMAL(18,2)",
        "order_items.unit_price": "DECIMAL(18,2)",
        "order_items.discount_amount": "DECIMAL(18,2)",
        "products.unit_price": "DECIMAL(18,2)",
        "products.unit_cost": "DECIMAL(18,2)",
        "fx_rates.rate_to_base": "DECIMAL(18,10)",
    }
    # Float noise in a landing file is gone once loaded: cents, exactly.
    assert _rows(wh, "select order_id, total_amount::varchar from raw.orders order by 1") == [
        ("o1", "1490.00"),
        ("o2", "142693.86"),
    ]


def test_parquet_doubles_land_as_exact_cents(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    amounts = [0.1 + 0.2, 1490.0000000000002, 19.99]
    pq.write_table(
        pa.table(
            {
                "order_id": ["o1", "o2", "o3"],
                "customer_id": ["c1", "c2", "c3"],
                "ordered_at": [datetime(2024, 1, 5, 10)] * 3,
                "total_amount": amounts,
            }
        ),
        landing / "orders" / "orders.parquet",
    )
    wh = tmp_path / "wh.duckdb"
    ingest(landing, wh, now=NOW)
    assert _rows(wh, "select sum(total_amount)::varchar from raw.orders") == [("1510.29",)]
