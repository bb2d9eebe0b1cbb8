"""Unit tests for segmint.ingest: discovery, typed load, quarantine, refusal, idempotence."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmint.contract import TABLES
from segmint.ingest import (
    IGNORED,
    LOADED,
    REFUSED,
    SKIPPED,
    IngestError,
    discover,
    ensure_schema,
    ingest,
)
from segmint.privacy import keyed_sql, prepare

NOW = datetime(2024, 6, 1, 12, 0, 0)
ORDERS_HEADER = "order_id,customer_id,ordered_at,status,total_amount,discount_amount\n"


def write(path: Path, text: str | bytes) -> Path:
    """Write text (or bytes) to path, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def orders_csv(path: Path, *ids: str) -> Path:
    """A clean orders CSV with the given order ids."""
    rows = "".join(f"{i},c{i},2024-01-01T10:00:00,completed,10,0\n" for i in ids)
    return write(path, ORDERS_HEADER + rows)


def rows(wh: Path, sql: str) -> list[tuple]:
    """Run a query against the warehouse read-only."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def by_file(report, name: str):
    """The report entry of the file with this name."""
    return next(f for f in report.files if Path(f.file).name == name)


def assert_balanced(report) -> None:
    """rows_read = rows_loaded + rows_quarantined for every file."""
    for f in report.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined, f


@pytest.fixture
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "segmint.duckdb"


def test_discover_by_name_prefix_and_folder(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    write(land / "orders.csv", ORDERS_HEADER)
    write(land / "orders_2024.parquet", b"")
    write(land / "deep" / "events" / "part-1.jsonl", "")
    write(land / "order_items_001.csv", "")
    write(land / "customers" / "x.ndjson", "")
    write(land / "notes.txt", "hello")
    write(land / "ordersx.csv", "")
    found = discover(land)
    assert set(found) == set(TABLES)
    assert [p.name for p in found["orders"]] == ["orders.csv", "orders_2024.parquet"]
    assert [p.name for p in found["order_items"]] == ["order_items_001.csv"]
    assert [p.name for p in found["events"]] == ["part-1.jsonl"]
    assert [p.name for p in found["customers"]] == ["x.ndjson"]
    assert found["products"] == []


def test_every_violation_kind_is_quarantined_with_reason_and_line(tmp_path: Path, wh: Path):
    land = tmp_path / "landing"
    text = (
        ORDERS_HEADER
        + "o1,c1,2024-01-01T10:00:00+02:00, Completed ,10.5,0\n"  # 2 ok, tz + enum normalised
        + "o2,,2024-01-01,completed,1,0\n"  # 3 missing customer_id
        + "o3,c3,yesterday,completed,1,0\n"  # 4 invalid timestamp
        + "o4,c4,2024-01-01,shipped,1,0\n"  # 5 unknown enum
        + "o5,c5,2024-06-03T12:00:01,completed,1,0\n"  # 6 future (> now + 24 h)
        + "o6,c6,2024-01-01,completed,-3,0\n"  # 7 negative
        + "o1,c7,2024-01-02,completed,1,0\n"  # 8 duplicate of line 2
        + "o8,c8,2024-01-01\n"  # 9 malformed (too few columns)
        + "o9,c9,2024-01-01,completed,1,0,extra\n"  # 10 malformed (too many)
        + ",c10,nope,bogus,abc,-1\n"  # 11 several problems
        + "o11,c11,2024-06-02T11:00:00,returned,0,0\n"  # 12 within skew: ok
    )
    write(land / "orders.csv", text)
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    f = by_file(report, "orders.csv")
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == (LOADED, 11, 2, 9)
    loaded = rows(
        wh, "SELECT order_id, ordered_at, status, _source_line FROM raw.orders ORDER BY 4"
    )
    assert loaded == [
        ("o1", datetime(2024, 1, 1, 8, 0), "completed", 2),
        ("o11", datetime(2024, 6, 2, 11, 0), "returned", 12),
    ]
    q = dict(rows(wh, "SELECT _source_line, _reason FROM quarantine.orders"))
    assert q[3] == "missing_required:customer_id"
    assert q[4] == "invalid_type:ordered_at"
    assert q[5] == "unknown_enum:status"
    assert q[6] == "future_timestamp:ordered_at"
    assert q[7] == "negative_value:total_amount"
    assert q[8] == "duplicate_key"
    assert q[9].startswith("malformed_row:") and "Expected Number of Columns" in q[9]
    assert q[10].startswith("malformed_row:")
    assert q[11] == (
        "missing_required:order_id; invalid_type:ordered_at; unknown_enum:status; "
        "invalid_type:total_amount; negative_value:discount_amount"
    )
    files = rows(wh, "SELECT DISTINCT _source_file, _file_hash FROM quarantine.orders")
    expected_hash = hashlib.sha256((land / "orders.csv").read_bytes()).hexdigest()
    assert files == [(str((land / "orders.csv").resolve()), expected_hash)]
    # Quarantine keeps the raw text as it was in the file.
    assert rows(
        wh, "SELECT status, total_amount FROM quarantine.orders WHERE _source_line = 5"
    ) == [("shipped", "1")]
    ledger = rows(
        wh,
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined, status FROM raw.load_ledger",
    )
    assert ledger == [("orders", 11, 2, 9, LOADED)]


def test_duplicate_keeps_first_valid_occurrence(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    write(
        land / "orders.csv",
        ORDERS_HEADER
        + "o1,c1,notadate,completed,1,0\n"
        + "o1,c1,2024-01-02,completed,1,0\n"
        + "o1,c1,2024-01-03,completed,1,0\n",
    )
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    assert rows(wh, "SELECT _source_line FROM raw.orders") == [(3,)]
    q = rows(wh, "SELECT _source_line, _reason FROM quarantine.orders ORDER BY 1")
    assert q == [(2, "invalid_type:ordered_at"), (4, "duplicate_key")]


def test_customers_types_booleans_dates(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1")
    header = "customer_id,email,birth_date,signup_at,marketing_consent,updated_at\n"
    body = "".join(
        f"k{i},u{i}@example.com,1990-05-0{i % 9 + 1},2023-01-01,{v},2023-02-01T00:00:00Z\n"
        for i, v in enumerate(["TRUE", "false", "1", "0", "Yes", "no", "Y", "n"])
    )
    body += "k8,x@example.com,2030-01-01,2023-01-01,maybe,2023-02-01\n"
    write(land / "customers" / "customers_001.csv", header + body)
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    consent = rows(wh, "SELECT marketing_consent FROM raw.customers ORDER BY _source_line")
    assert [c for (c,) in consent] == [True, False, True, False, True, False, True, False]
    assert rows(wh, "SELECT birth_date FROM raw.customers WHERE customer_id = 'k0'") == [
        (date(1990, 5, 1),)
    ]
    assert rows(wh, "SELECT _reason, _source_line FROM quarantine.customers") == [
        ("future_timestamp:birth_date; invalid_type:marketing_consent", 10)
    ]


def test_missing_required_columns_refuses_whole_file(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1")
    write(land / "orders_bad.csv", "order_id,status\no2,completed\n")
    write(land / "orders_semicolon.csv", "order_id;customer_id;ordered_at\no3;c3;2024-01-01\n")
    report = ingest(land, wh, now=NOW)
    bad = by_file(report, "orders_bad.csv")
    assert bad.status == REFUSED
    assert "orders_bad.csv" in bad.message
    assert "customer_id, ordered_at" in bad.message
    semi = by_file(report, "orders_semicolon.csv")
    assert semi.status == REFUSED and "customer_id" in semi.message
    assert report.files_refused == 2 and report.files_loaded == 1
    assert rows(wh, "SELECT order_id FROM raw.orders") == [("o1",)]
    assert rows(wh, "SELECT count(*) FROM quarantine.orders") == [(0,)]
    ledger = rows(wh, "SELECT status, rows_read FROM raw.load_ledger ORDER BY file_path")
    assert ledger == [(LOADED, 1), (REFUSED, 0), (REFUSED, 0)]


def test_reingest_is_noop_and_new_file_appends(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders" / "orders_001.csv", "o1", "o2")
    first = ingest(land, wh, now=NOW)
    assert first.rows_loaded == 2
    second = ingest(land, wh, now=NOW)
    assert [f.status for f in second.files] == [SKIPPED]
    assert second.rows_read == 0
    assert rows(wh, "SELECT count(*) FROM raw.orders") == [(2,)]
    assert rows(wh, "SELECT count(*) FROM raw.load_ledger") == [(1,)]
    orders_csv(land / "orders" / "orders_002.csv", "o3")
    third = ingest(land, wh, now=NOW)
    assert [f.status for f in third.files] == [SKIPPED, LOADED]
    assert rows(wh, "SELECT order_id FROM raw.orders ORDER BY 1") == [("o1",), ("o2",), ("o3",)]


def test_orders_only_landing_creates_all_tables(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1")
    report = ingest(land, wh, now=NOW)
    assert report.files_loaded == 1
    for name in TABLES:
        expected = 1 if name == "orders" else 0
        assert rows(wh, f"SELECT count(*) FROM raw.{name}") == [(expected,)]
        assert rows(wh, f"SELECT count(*) FROM quarantine.{name}") == [(0,)]
    types = dict(
        rows(
            wh,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'events'",
        )
    )
    assert types["occurred_at"] == "TIMESTAMP" and types["_source_line"] == "BIGINT"
    assert types["properties"] == "JSON"


def test_no_orders_file_is_a_user_error(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    write(land / "customers.csv", "customer_id\nk1\n")
    with pytest.raises(IngestError, match="no orders file found"):
        ingest(land, wh, now=NOW)
    with pytest.raises(IngestError, match="landing folder not found"):
        ingest(tmp_path / "nope", wh, now=NOW)


def test_parquet_and_json_lines_load(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    table = pa.table(
        {
            "order_id": ["p1", "p2", "p3"],
            "customer_id": ["c1", "c2", None],
            "ordered_at": [datetime(2024, 1, 1, 9), datetime(2024, 1, 2), datetime(2024, 1, 3)],
            "status": ["completed", "returned", "completed"],
            "total_amount": [1.5, -2.0, 3.0],
            "unknown_col": [1, 2, 3],
        }
    )
    pq.write_table(table, land.mkdir(parents=True) or land / "orders_001.parquet")
    lines = [
        {"event_id": "e1", "occurred_at": "2024-01-01T00:00:00Z", "event_type": "PAGE_VIEW",
         "customer_id": "c1", "properties": {"page": "/home", "n": [1, 2]}},
        {"event_id": "e2", "occurred_at": "2024-01-01", "event_type": "login", "x": 1},
        {"event_id": "e3", "occurred_at": "2024-01-01", "event_type": "teleport"},
    ]  # fmt: skip
    text = "\n".join(json.dumps(r) for r in lines[:2]) + "\n{broken\n\n" + json.dumps(lines[2])
    write(land / "events" / "events_001.jsonl", text)
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    pf = by_file(report, "orders_001.parquet")
    assert (pf.status, pf.rows_read, pf.rows_loaded, pf.file_format) == (LOADED, 3, 1, "parquet")
    assert "unknown_col" in pf.message
    assert rows(wh, "SELECT order_id, ordered_at, _source_line FROM raw.orders") == [
        ("p1", datetime(2024, 1, 1, 9), 1)
    ]
    assert rows(wh, "SELECT _source_line, _reason FROM quarantine.orders ORDER BY 1") == [
        (2, "negative_value:total_amount"),
        (3, "missing_required:customer_id"),
    ]
    jf = by_file(report, "events_001.jsonl")
    assert (jf.status, jf.rows_read, jf.rows_loaded, jf.rows_quarantined) == (LOADED, 4, 2, 2)
    ev = rows(
        wh, "SELECT event_id, event_type, properties, _source_line FROM raw.events ORDER BY 1"
    )
    assert ev[0][:2] == ("e1", "page_view") and ev[0][3] == 1
    assert json.loads(ev[0][2]) == {"page": "/home", "n": [1, 2]}
    assert ev[1] == ("e2", "login", None, 2)
    q = rows(wh, "SELECT _source_line, _reason FROM quarantine.events ORDER BY 1")
    assert q[0][0] == 3 and q[0][1].startswith("malformed_row:invalid JSON")
    assert q[1] == (5, "unknown_enum:event_type")


def test_bom_crlf_header_only_empty_and_truncated(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    crlf = (ORDERS_HEADER + "o1,c1,2024-01-01,completed,1,0\n").replace("\n", "\r\n")
    write(land / "orders_bom.csv", b"\xef\xbb\xbf" + crlf.encode())
    write(land / "orders_header_only.csv", ORDERS_HEADER)
    write(land / "orders_empty.csv", b"")
    write(land / "orders_trunc.csv", ORDERS_HEADER + "o2,c2,2024-01-01,completed,2,0\no3,c3,20")
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    assert all(f.status == LOADED for f in report.files)
    assert by_file(report, "orders_bom.csv").rows_loaded == 1
    assert by_file(report, "orders_header_only.csv").rows_read == 0
    assert by_file(report, "orders_empty.csv").rows_read == 0
    assert "empty file" in by_file(report, "orders_empty.csv").message
    trunc = by_file(report, "orders_trunc.csv")
    assert (trunc.rows_loaded, trunc.rows_quarantined) == (1, 1)
    # CRLF: no stray carriage return in the last column; BOM not part of the first value.
    assert rows(wh, "SELECT order_id, discount_amount FROM raw.orders ORDER BY 1") == [
        ("o1", 0.0),
        ("o2", 0.0),
    ]
    q = rows(wh, "SELECT _source_line, _reason FROM quarantine.orders")
    assert q[0][0] == 3 and q[0][1].startswith("malformed_row:")


def test_invalid_utf8_blank_lines_and_quoted_newlines_keep_physical_lines(
    tmp_path: Path, wh: Path
) -> None:
    land = tmp_path / "landing"
    body = (
        ORDERS_HEADER.encode()
        + b'o1,c1,2024-01-01,"completed",1,0\n'  # 2
        + b"o2,c\xff\xfe,2024-01-01,completed,1,0\n"  # 3 invalid utf-8
        + b"\n"  # 4 blank
        + b'o3,"c3\nline two",2024-01-01,completed,1,0\n'  # 5-6
        + b"o4,c4,2024-01-01,completed,1\n"  # 7 malformed
        + b"o5,c5,2024-01-01,completed,-1,0\n"  # 8 negative
    )
    write(land / "orders.csv", body)
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    assert rows(wh, "SELECT order_id, _source_line FROM raw.orders ORDER BY 2") == [
        ("o1", 2),
        ("o3", 5),
    ]
    q = rows(wh, "SELECT _source_line, _reason FROM quarantine.orders ORDER BY 1")
    assert [line for line, _ in q] == [3, 7, 8]
    assert "unicode" in q[0][1].lower() and q[0][1].startswith("malformed_row:")
    assert q[2][1] == "negative_value:total_amount"


def test_not_json_and_broken_parquet_are_refused(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1")
    write(land / "events.jsonl", "event_id,occurred_at,event_type\ne1,2024-01-01,login\n")
    write(land / "products" / "products_001.parquet", b"")
    write(land / "products" / "products_002.parquet", b"PAR1 not really parquet")
    pq.write_table(pa.table({"sku": ["a"], "price": [1.0]}), land / "products_003.parquet")
    report = ingest(land, wh, now=NOW)
    ev = by_file(report, "events.jsonl")
    assert ev.status == REFUSED and "not a JSON lines file" in ev.message
    for name in ("products_001.parquet", "products_002.parquet"):
        f = by_file(report, name)
        assert f.status == REFUSED and "Parquet" in f.message, f
    wrong = by_file(report, "products_003.parquet")
    assert wrong.status == REFUSED and "product_id" in wrong.message
    assert rows(wh, "SELECT count(*) FROM raw.events") == [(0,)]
    assert rows(wh, "SELECT count(*) FROM raw.products") == [(0,)]
    assert report.files_refused == 4 and report.files_loaded == 1


def test_unmatched_files_are_reported_as_ignored(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1")
    write(land / "readme.txt", "hi")
    write(land / "invoices.csv", "a,b\n1,2\n")
    report = ingest(land, wh, now=NOW)
    ignored = sorted(Path(f.file).name for f in report.files if f.status == IGNORED)
    assert ignored == ["invoices.csv", "readme.txt"]
    assert report.files_ignored == 2


def test_erased_customers_are_quarantined_without_their_values(tmp_path: Path, wh: Path):
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1", "o2")
    write(
        land / "customers.csv",
        "customer_id,email,phone\nco1,secret@example.com,+15550001\nco2,b@example.com,\n",
    )
    con = duckdb.connect(str(wh.parent.mkdir(parents=True) or wh))
    ensure_schema(con)
    key = prepare(con)
    con.execute(
        "INSERT INTO raw.erasure_ledger (customer_id_hash) VALUES (?)", [key.identifier_hash("co1")]
    )
    con.close()
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    assert rows(wh, "SELECT order_id FROM raw.orders") == [("o2",)]
    assert rows(wh, "SELECT customer_id FROM raw.customers") == [("co2",)]
    q = rows(wh, "SELECT customer_id, email, _reason, _source_line FROM quarantine.customers")
    assert q == [(None, None, "erased_customer", 2)]
    assert rows(wh, "SELECT _reason FROM quarantine.orders") == [("erased_customer",)]
    assert "secret@example.com" not in " ".join(f.message for f in report.files)


def test_erased_orders_items_and_anonymous_events_are_suppressed(tmp_path: Path, wh: Path):
    # order_items carry only order_id, anonymous events only anonymous_id: both are kept
    # out through raw.erasure_identifiers (keyed hash of the trimmed id, hashed in Python
    # here and compared with the SQL hash in ingest), counted as quarantined (reconciled).
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1", "o2")
    write(
        land / "order_items.csv",
        "order_id,product_id,quantity,unit_price\n o1 ,p1,1,5\no1,p2,2,5\no2,p1,1,5\no1,p1,1,5\n",
    )
    write(
        land / "events.jsonl",
        "".join(
            json.dumps(e) + "\n"
            for e in (
                {
                    "event_id": "e1",
                    "occurred_at": "2024-01-01T10:00:00",
                    "event_type": "page_view",
                    "anonymous_id": "anon-x",
                },
                {
                    "event_id": "e2",
                    "occurred_at": "2024-01-01T10:00:00",
                    "event_type": "page_view",
                    "anonymous_id": " anon-x",
                    "customer_id": "co2",
                },
                {
                    "event_id": "e3",
                    "occurred_at": "2024-01-01T10:00:00",
                    "event_type": "page_view",
                    "anonymous_id": "anon-y",
                },
                {
                    "event_id": "e4",
                    "occurred_at": "2024-01-01T10:00:00",
                    "event_type": "purchase",
                    "customer_id": "co1",
                },
            )
        ),
    )
    con = duckdb.connect(str(wh.parent.mkdir(parents=True) or wh))
    ensure_schema(con)
    key = prepare(con)
    identifier_hash = key.identifier_hash
    con.execute(
        "INSERT INTO raw.erasure_ledger (customer_id_hash) VALUES (?)", [identifier_hash("co1")]
    )
    con.executemany(
        "INSERT INTO raw.erasure_identifiers VALUES (?, ?, now())",
        [["order_id", identifier_hash(" o1")], ["anonymous_id", identifier_hash("anon-x ")]],
    )
    (same,) = con.execute(
        f"SELECT {keyed_sql('?')} = ?", [" anon-x ", identifier_hash("anon-x")]
    ).fetchone()
    con.close()
    assert same
    report = ingest(land, wh, now=NOW)
    assert_balanced(report)
    items, events = by_file(report, "order_items.csv"), by_file(report, "events.jsonl")
    # o1 twice + o1 again (duplicate key, still theirs: blanked all the same); o2 stays.
    assert (items.rows_read, items.rows_loaded, items.rows_quarantined) == (4, 1, 3)
    assert items.rows_suppressed == 3 and "3 of erased people" in items.message
    assert rows(wh, "SELECT order_id, product_id FROM raw.order_items") == [("o2", "p1")]
    q = rows(wh, "SELECT order_id, product_id, _reason FROM quarantine.order_items ORDER BY 3")
    assert (
        q
        == [(None, None, "duplicate_key; erased_customer")] + [(None, None, "erased_customer")] * 2
    )
    # e1: their device, anonymous; e4: theirs by customer_id. e2 is someone else's row on
    # the same device id, e3 another device: both load.
    assert (events.rows_loaded, events.rows_quarantined, events.rows_suppressed) == (2, 2, 2)
    assert rows(wh, "SELECT event_id FROM raw.events ORDER BY 1") == [("e2",), ("e3",)]
    blank = rows(wh, "SELECT event_id, anonymous_id, customer_id, _reason FROM quarantine.events")
    assert blank == [(None, None, None, "erased_customer")] * 2
    assert report.rows_suppressed == 5 + 1  # + order o1 itself (its customer co1 is erased)
    assert report.totals["rows_suppressed"] == report.rows_suppressed
    assert "(6 of erased people)" in report.summary()
    (ledger,) = rows(
        wh,
        "SELECT rows_read - rows_loaded - rows_quarantined FROM raw.load_ledger "
        "WHERE file_path LIKE '%order_items.csv'",
    )
    assert ledger == (0,)


def test_progress_is_reported(tmp_path: Path, wh: Path) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders_1.csv", "o1")
    orders_csv(land / "orders_2.csv", "o2")
    calls: list[tuple[str, int, int]] = []
    ingest(land, wh, progress=lambda label, done, total: calls.append((label, done, total)))
    assert [(d, t) for _, d, t in calls] == [(0, 2), (1, 2), (2, 2)]


def test_crash_mid_file_leaves_nothing(
    tmp_path: Path, wh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    land = tmp_path / "landing"
    orders_csv(land / "orders.csv", "o1", "o2")
    write(land / "customers.csv", "customer_id\nk1\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash after raw and quarantine inserts")

    monkeypatch.setattr("segmint.ingest.load.ledger_insert", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(land, wh, now=NOW)
    monkeypatch.undo()
    for name in ("customers", "orders"):
        assert rows(wh, f"SELECT count(*) FROM raw.{name}") == [(0,)]
        assert rows(wh, f"SELECT count(*) FROM quarantine.{name}") == [(0,)]
    assert rows(wh, "SELECT count(*) FROM raw.load_ledger") == [(0,)]
    # The next run loads everything once.
    report = ingest(land, wh, now=NOW)
    assert report.rows_loaded == 3
    assert rows(wh, "SELECT count(*) FROM raw.orders") == [(2,)]


def test_tables_without_timestamp_columns_load(tmp_path: Path) -> None:
    """products and order_items have no timestamps: their checks must still run."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.csv").write_text("order_id,customer_id,ordered_at\nO1,C1,2026-01-02\n")
    (landing / "products.csv").write_text(
        "product_id,name,category,brand,unit_price,unit_cost\nP1,Mug,home,Acme,9.5,4\nP2,Cup,home,Acme,-1,2\n"
    )
    (landing / "order_items.csv").write_text(
        "order_id,product_id,quantity,unit_price,discount_amount\nO1,P1,2,9.5,0\nO1,P9,x,9.5,0\n"
    )
    report = ingest(landing, tmp_path / "w.duckdb")
    by_table = {f.table: f for f in report.files}
    for name in ("products", "order_items"):
        f = by_table[name]
        assert f.status == "loaded", f.message
        assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (2, 1, 1)
