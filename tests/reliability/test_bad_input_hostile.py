"""Bad-input corpus, part two (#21, #14.8): careless and hostile input.

Values that DuckDB parses but no shop can have (epoch zero, -infinity, year 1, amounts near
the float limit, objects where the contract has a plain value) are quarantined with a
reason, so whatever ingests runs through every later step. A header naming a column twice
is refused; a dangling symlink, a FIFO or a directory named like a data file is reported.
Mixed line endings load and line numbers count physical lines. Every quarantined row keeps
its raw text in `_raw_line`. Same checks as the first part (tests/reliability/
test_bad_input_corpus.py): outcome, reasons, lines, read = loaded + quarantined.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from segmint.ingest import REFUSED, ensure_schema, ingest
from tests.reliability.test_bad_input_corpus import (
    BASE_ORDERS,
    CASES,
    CUSTOMERS_COLS,
    EVENTS_COLS,
    ITEMS_COLS,
    NOW,
    ORDER_JSON,
    ORDERS_COLS,
    Case,
    _query,
    _report_for,
    check_case,
    customer,
    event,
    item,
    jsonl,
    order,
    orders_csv,
    parquet_bytes,
)


def _dangling(landing: Path) -> None:
    target = landing / "orders_link.csv"
    target.unlink()
    target.symlink_to(landing / "gone" / "orders_2024.csv")


def _fifo(landing: Path) -> None:
    target = landing / "orders_pipe.csv"
    target.unlink()
    os.mkfifo(target)


def _directory(landing: Path) -> None:
    target = landing / "orders_2023.csv"
    target.unlink()
    target.mkdir()


def _raw(table: str, reason: str) -> str:
    return f"select _raw_line from quarantine.{table} where _reason like '{reason}%'"


HOSTILE_CASES: list[Case] = [
    # --- timestamps DuckDB parses but no shop can have --------------------------------
    Case(
        "epoch_zero_timestamp",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10", ordered_at="1970-01-01T00:00:00"), order("o11")
            )
        },
        loaded=1,
        quarantined={"implausible_timestamp:ordered_at": 1},
        lines={"implausible_timestamp:ordered_at": [2]},
    ),
    Case(
        "minus_infinity_timestamp",
        "orders",
        {"orders_case.csv": orders_csv(order("o10", ordered_at="-infinity"), order("o11"))},
        loaded=1,
        quarantined={"implausible_timestamp:ordered_at": 1},
    ),
    Case(
        "year_one_timestamp",
        "events",
        {"events.csv": f"{EVENTS_COLS}\n" + event("e1", occurred_at="0001-01-01") + event("e2")},
        loaded=1,
        quarantined={"implausible_timestamp:occurred_at": 1},
    ),
    Case(
        "signup_decades_before_any_shop",
        "customers",
        {"customers.csv": f"{CUSTOMERS_COLS}\n" + customer("c1", signup_at="1900-05-01")},
        loaded=0,
        quarantined={"implausible_timestamp:signup_at": 1},
    ),
    Case(
        "birth_date_year_one",
        "customers",
        {
            "customers.csv": f"{CUSTOMERS_COLS}\n"
            + customer("c1", birth_date="0001-01-01")
            + customer("c2", birth_date="1931-07-09")
        },
        loaded=1,
        quarantined={"implausible_timestamp:birth_date": 1},
    ),
    # --- amounts outside DECIMAL(18,2) ------------------------------------------------
    Case(
        "amount_near_float_limit",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10", total_amount="1.7976931348623157e308"),
                order("o11", discount_amount="1e16"),
                order("o12", total_amount="9999999999999999.99"),
                order("o13", total_amount="999999999999.99"),
            )
        },
        loaded=1,
        quarantined={"out_of_range:total_amount": 2, "out_of_range:discount_amount": 1},
    ),
    Case(
        "huge_price_in_parquet",
        "products",
        {
            "products.parquet": parquet_bytes(
                pa.table({"product_id": ["p1", "p2"], "unit_price": [3e17, 4.5]})
            )
        },
        loaded=1,
        quarantined={"out_of_range:unit_price": 1},
        lines={"out_of_range:unit_price": [1]},
    ),
    Case(
        "huge_quantity",
        "order_items",
        {
            "order_items.csv": f"{ITEMS_COLS}\n"
            + item("o1", "p1", qty="2000000000")
            + item("o1", "p2")
        },
        loaded=1,
        quarantined={"out_of_range:quantity": 1},
    ),
    # --- objects and arrays where the contract has a plain value ----------------------
    Case(
        "json_object_as_id",
        "orders",
        {
            "orders_case.jsonl": jsonl(
                '{"order_id": {"nested": 1}, "customer_id": "c1", "ordered_at": "2024-02-01"}',
                ORDER_JSON.format(oid="o11", amount=2),
            )
        },
        loaded=1,
        quarantined={"not_scalar:order_id": 1},
        lines={"not_scalar:order_id": [1]},
    ),
    Case(
        "json_array_as_value",
        "orders",
        {
            "orders_case.jsonl": jsonl(
                '{"order_id": "o10", "customer_id": ["c1", "c2"], "ordered_at": "2024-02-01", '
                '"total_amount": [1, 2]}'
            )
        },
        loaded=0,
        quarantined={"not_scalar:customer_id": 1},
        raw_check=(
            "select _reason from quarantine.orders where _source_line = 1",
            [("not_scalar:customer_id; not_scalar:total_amount; invalid_type:total_amount",)],
        ),
    ),
    Case(
        "parquet_struct_as_id",
        "orders",
        {
            "orders_case.parquet": parquet_bytes(
                pa.table(
                    {
                        "order_id": [{"a": 1}, {"a": 2}],
                        "customer_id": ["c1", "c1"],
                        "ordered_at": ["2024-02-01", "2024-02-02"],
                    }
                )
            )
        },
        loaded=0,
        quarantined={"not_scalar:order_id": 2},
    ),
    # --- headers ------------------------------------------------------------------------
    Case(
        "duplicate_header_column",
        "orders",
        {"orders_case.csv": orders_csv(order("o10") + ",web", header=ORDERS_COLS + ",channel")},
        refused="duplicate column name 'channel'",
    ),
    Case(
        "duplicate_header_column_other_case",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10"), header=ORDERS_COLS.replace("currency", "Order_ID")
            )
        },
        refused="duplicate column name 'order_id'",
    ),
    # --- landing entries that are no regular file ---------------------------------------
    Case(
        "dangling_symlink",
        "orders",
        {"orders_link.csv": ""},
        prepare=_dangling,
        refused="symbolic link whose target does not exist",
    ),
    # --- line endings and physical lines --------------------------------------------
    Case(
        "crlf_header_lf_rows",
        "orders",
        {
            "orders_case.csv": ORDERS_COLS
            + "\r\n"
            + order("o10")
            + order("o11", status="bogus")
            + order("o12", total_amount="1.5")
        },
        loaded=2,
        quarantined={"unknown_enum:status": 1},
        lines={"unknown_enum:status": [3]},
        raw_check=("select currency from raw.orders where order_id = 'o12'", [("EUR",)]),
    ),
    Case(
        "crlf_inside_quotes_of_lf_file",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10", channel='"web\r\nshop"'), order("o11", status="bogus"), order("o12")
            )
        },
        loaded=2,
        quarantined={"unknown_enum:status": 1},
        lines={"unknown_enum:status": [4]},
    ),
    Case(
        "stray_quote_then_quoted_newline",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10", channel='we"b'),
                order("o11", channel='"two\nlines"'),
                order("o12", status="bogus"),
            )
        },
        loaded=2,
        quarantined={"unknown_enum:status": 1},
        lines={"unknown_enum:status": [5]},
        raw_check=(
            "select order_id, _source_line from raw.orders order by 2",
            [("o1", 2), ("o10", 2), ("o2", 3), ("o11", 3)],
        ),
    ),
    # --- quarantine keeps the raw text --------------------------------------------------
    Case(
        "surplus_column_keeps_raw_line",
        "orders",
        {"orders_case.csv": orders_csv(order("o10"), order("o11").rstrip("\n") + ",x,y\n")},
        loaded=1,
        quarantined={"malformed_row:": 1},
        raw_check=(_raw("orders", "malformed_row"), [(order("o11").rstrip("\n") + ",x,y",)]),
    ),
    Case(
        "multi_line_record_keeps_raw_lines",
        "orders",
        {
            "orders_case.csv": orders_csv(
                order("o10", channel='"web\nshop"', status="bogus"), "\n", order("o11")
            )
        },
        loaded=1,
        quarantined={"unknown_enum:status": 1},
        raw_check=(
            _raw("orders", "unknown_enum"),
            [(order("o10", channel='"web\nshop"', status="bogus").rstrip("\n"),)],
        ),
    ),
    Case(
        "invalid_json_keeps_raw_line",
        "orders",
        {"orders_case.jsonl": jsonl(ORDER_JSON.format(oid="o10", amount=1), '{"order_id": "o11",')},
        loaded=1,
        quarantined={"malformed_row:": 1},
        raw_check=(_raw("orders", "malformed_row"), [('{"order_id": "o11",',)]),
    ),
    Case(
        "non_utf8_keeps_raw_line",
        "customers",
        {
            "customers.csv": (
                f"{CUSTOMERS_COLS}\n" + customer("c1", city="M\xfcnchen") + customer("c2")
            ).encode("latin-1")
        },
        loaded=1,
        quarantined={"malformed_row:": 1},
        raw_check=(
            _raw("customers", "malformed_row"),
            [(customer("c1", city="M\ufffdnchen").rstrip("\n"),)],
        ),
    ),
    Case(
        "parquet_row_kept_as_json",
        "order_items",
        {
            "order_items.parquet": parquet_bytes(
                pa.table(
                    {
                        "order_id": ["o1"],
                        "product_id": ["p1"],
                        "quantity": ["two"],
                        "unit_price": [9.5],
                    }
                )
            )
        },
        loaded=0,
        quarantined={"invalid_type:quantity": 1},
        raw_check=(
            _raw("order_items", "invalid_type"),
            [('{"order_id":"o1","product_id":"p1","quantity":"two","unit_price":9.5}',)],
        ),
    ),
    Case(
        "erased_person_raw_line_blanked",
        "customers",
        {"customers.csv": f"{CUSTOMERS_COLS}\n" + customer("c9") + customer("c2", gender="")},
        setup_sql="insert into raw.erasure_ledger values (sha256('c9'))",
        loaded=1,
        quarantined={"erased_customer": 1},
        raw_check=("select _raw_line from quarantine.customers", [(None,)]),
    ),
    Case("fifo_named_like_data", "orders", {"orders_pipe.csv": ""}, prepare=_fifo, refused="FIFO"),
    Case(
        "directory_named_like_data",
        "orders",
        {"orders_2023.csv": ""},
        prepare=_directory,
        refused="directory named like a data file",
    ),
]


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=[c.id for c in HOSTILE_CASES])
def test_hostile_input_gets_clear_outcome(case: Case, tmp_path: Path) -> None:
    """Each hostile input is refused with a clear message or quarantined with a reason."""
    check_case(case, tmp_path)


def test_corpus_kinds() -> None:
    """Both parts together: 48 kinds before #21, every one with a distinct id."""
    ids = [c.id for c in CASES + HOSTILE_CASES]
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 48 + len(HOSTILE_CASES)


def test_earliest_plausible_date_is_configurable(tmp_path: Path) -> None:
    """The window's floor is a setting: 2020 quarantines a 2019 order, 1990 loads it."""
    for floor, loaded in ((date(2020, 1, 1), 2), (date(2024, 1, 2), 1)):
        landing = tmp_path / str(floor) / "landing"
        landing.mkdir(parents=True)
        (landing / "orders.csv").write_text(BASE_ORDERS)
        warehouse = landing.parent / "segmint.duckdb"
        report = ingest(landing, warehouse, now=NOW, earliest=floor)
        assert report.rows_loaded == loaded, report.files
        reasons = _query(warehouse, "select _reason from quarantine.orders")
        assert reasons == [("implausible_timestamp:ordered_at",)] * (2 - loaded)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    """A FIFO named like a data file does not block ingest (it is reported, not read)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.csv").write_text(BASE_ORDERS)
    os.mkfifo(landing / "customers.csv")
    report = ingest(landing, tmp_path / "segmint.duckdb", now=NOW)
    fifo = _report_for(report, "customers.csv")
    assert fifo.status == REFUSED and "customers.csv" in fifo.message


def test_forget_removes_quarantined_raw_lines(tmp_path: Path) -> None:
    """A malformed row keeps its values only in _raw_line: forget still finds and removes it."""
    from segmint.erasure import forget
    from segmint.settings import Settings

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.csv").write_text(
        BASE_ORDERS + order("o9", customer_id="c9").rstrip("\n") + ",surplus\n"
    )
    (landing / "customers.csv").write_text(
        f"{CUSTOMERS_COLS}\n" + customer("c9").rstrip("\n") + ",surplus\n" + customer("c10")
    )
    warehouse = tmp_path / "wh" / "segmint.duckdb"
    ingest(landing, warehouse, now=NOW)
    sql = "select count(*) from quarantine.{} where _raw_line like '%c9%'"
    assert [_query(warehouse, sql.format(t))[0][0] for t in ("orders", "customers")] == [1, 1]

    settings = Settings(warehouse=warehouse, artifacts=tmp_path / "artifacts")
    forget(settings, customer_id="c9", live_runs=lambda: [])

    assert [_query(warehouse, sql.format(t))[0][0] for t in ("orders", "customers")] == [0, 0]
    assert _query(warehouse, "select count(*) from raw.customers where customer_id = 'c10'")


def test_earliest_plausible_date_setting_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an explicit floor ingest reads the setting (here SEGMINT_INGEST_EARLIEST_DATE)."""
    from segmint.settings import get_settings

    monkeypatch.setenv("SEGMINT_INGEST_EARLIEST_DATE", "2024-01-02")
    get_settings.cache_clear()
    try:
        landing = tmp_path / "landing"
        landing.mkdir()
        (landing / "orders.csv").write_text(BASE_ORDERS)
        report = ingest(landing, tmp_path / "segmint.duckdb", now=NOW)
    finally:
        get_settings.cache_clear()
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1), report.files


def test_warehouse_from_before_raw_lines_gains_the_column(tmp_path: Path) -> None:
    """A warehouse whose quarantine tables predate _raw_line gets the column on ingest."""
    import duckdb

    warehouse = tmp_path / "segmint.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_schema(con)
        for table in ("orders", "customers"):
            con.execute(f"alter table quarantine.{table} drop column _raw_line")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.csv").write_text(BASE_ORDERS + order("o10", status="lost"))
    report = ingest(landing, warehouse, now=NOW)
    assert report.rows_quarantined == 1, report.files
    assert _query(warehouse, "select _raw_line from quarantine.orders") == [
        (order("o10", status="lost").rstrip("\n"),)
    ]
