"""Money in exports (#14.2): DECIMAL amounts keep their cents, floats carry no binary noise.

marts.customer_targeting holds money as DECIMAL(18,2) (monetary) and averages as DOUBLE; an
export never prints 1490.0000000000002 or drops the cents of 1490.00.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from segmint.activation import export_audience
from segmint.activation.formats.base import text_value, without_float_noise
from tests.segmint.activation.data import audience, load_targeting, make_rows, read_csv


def _targeting_with_money(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The test targeting table with monetary as DECIMAL(18,2) (like the mart) and a DOUBLE
    average computed in binary floating point; returns the ids of eligible frequent buyers."""
    load_targeting(con, make_rows())
    con.execute(
        "alter table marts.customer_targeting alter monetary type decimal(18, 2) "
        "using cast(1490 as decimal(18, 2))"
    )
    con.execute("alter table marts.customer_targeting add column avg_order_value double")
    # 0.1 * 3 and 1490 + 2.3e-13: what a sum of floats leaves in the last bits
    con.execute("update marts.customer_targeting set avg_order_value = 1490.0000000000002")
    con.execute(
        "update marts.customer_targeting set avg_order_value = 0.1 * 3 where customer_id = 'c001'"
    )
    rows = con.execute(
        "select customer_id from marts.customer_targeting "
        "where frequency >= 3 and marketing_consent and not is_erased"
    ).fetchall()
    return [r[0] for r in rows]


def test_csv_and_jsonl_exports_print_cents_and_no_float_noise(con, tmp_path: Path) -> None:
    ids = _targeting_with_money(con)
    assert ids
    aud = audience(columns=["customer_id", "monetary", "avg_order_value"], holdout_share=0.0)
    csv_result = export_audience(con, aud, "csv", tmp_path, mode="full")
    members = [f for f in csv_result.files if "remov" not in f.name]
    rows = read_csv(members[0])
    assert {r["monetary"] for r in rows} == {"1490.00"}
    assert {r["avg_order_value"] for r in rows} <= {"1490.0", "0.3"}
    text = members[0].read_text()
    assert "0000000000002" not in text and "30000000000000004" not in text

    jsonl = export_audience(con, aud, "jsonl", tmp_path, mode="full")
    records = [
        json.loads(line)
        for f in jsonl.files
        if f.suffix == ".jsonl" and "remov" not in f.name
        for line in f.read_text().splitlines()
    ]
    assert records and {r["monetary"] for r in records} == {"1490.00"}
    assert {r["avg_order_value"] for r in records} <= {1490.0, 0.3}


def test_cell_text_of_money_and_floats() -> None:
    from decimal import Decimal

    assert text_value(Decimal("142693.86")) == "142693.86"
    assert text_value(Decimal("1490.00")) == "1490.00"
    assert text_value(142693.8600000003) == "142693.86"
    assert text_value(0.1 + 0.2) == "0.3"
    # figures with real digits keep them
    assert text_value(0.123456789012345) == "0.123456789012345"
    assert text_value(1e-07) == "1e-07"
    assert without_float_noise(float("inf")) == float("inf")
