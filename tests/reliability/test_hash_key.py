"""The identifier hash key: published pseudonyms are keyed, the key never leaves the working
warehouse, and a warehouse of the previous (unkeyed) version is migrated once without
letting an erased person back in."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from segmint.ingest import ingest
from segmint.privacy import KEYED_HASHES_MIGRATION, HashKey, load_key
from tests.conftest import TEST_ENV
from tests.reliability.conftest import REPO, segmint

pytestmark = pytest.mark.timeout(1800)  # the first test waits for the shared pipeline run

KEY = HashKey(bytes.fromhex(TEST_ENV["SEGMINT_HASH_KEY"]))


def test_published_customer_key_is_keyed_not_the_plain_sha256(baseline) -> None:
    """The snapshot carries customer_key only: the keyed hash of a working customer_id."""
    with duckdb.connect(str(baseline.warehouse), read_only=True) as con:
        ids = [r[0] for r in con.execute("select customer_id from marts.customer_360").fetchall()]
    with duckdb.connect(str(baseline.published), read_only=True) as con:
        published = {
            r[0]
            for table in ("marts.customer_360", "marts.customer_targeting")
            for r in con.execute(f"select customer_key from {table}").fetchall()
        }
    assert len(ids) > 300
    assert published == {KEY.identifier_hash(i) for i in ids}
    assert not published & {hashlib.sha256(i.encode()).hexdigest() for i in ids}


def test_the_key_never_leaves_the_working_warehouse(baseline) -> None:
    ipad, opad = KEY.pads()
    secret = TEST_ENV["SEGMINT_HASH_KEY"]
    needles = [secret.lower(), secret.upper(), ipad.hex(), opad.hex()]
    binary = [bytes.fromhex(secret), ipad, opad]
    assert all(n not in baseline.stdout + baseline.stderr for n in needles)
    working = {baseline.warehouse, Path(f"{baseline.warehouse}.wal")}
    places = [baseline.root, REPO / "dbt_project" / "target", REPO / "dbt_project" / "logs"]
    checked = 0
    for place in places:
        for path in sorted(p for p in place.rglob("*") if p.is_file()) if place.exists() else []:
            if path in working:
                continue
            data = path.read_bytes()
            text = data.decode("utf-8", "replace")
            assert not [n for n in needles if n in text], path
            assert not [b for b in binary if b in data], path
            checked += 1
    # The published file, the Dagster instance, dbt's compiled SQL and run results, exports.
    assert checked > 50
    assert any(p.name == "published.duckdb" for p in baseline.root.rglob("*"))
    with duckdb.connect(str(baseline.published), read_only=True) as con:
        (tables,) = con.execute(
            "select count(*) from information_schema.tables where table_name = 'hash_key'"
        ).fetchone()
    assert tables == 0


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _old_version_warehouse(root: Path) -> Path:
    """A warehouse as the previous version left it after `segmint forget --customer-id c1`:
    c1's rows deleted, ledgers holding plain sha256 hex, no hash key, no migration record."""
    landing = root / "landing"
    _write(landing / "customers.csv", "customer_id,email\nc1,one@example.com\nc2,two@example.com\n")
    _write(
        landing / "orders.csv",
        "order_id,customer_id,ordered_at\no1,c1,2024-01-01T10:00:00\no2,c2,2024-01-02T10:00:00\n",
    )
    warehouse = root / "warehouse" / "segmint.duckdb"
    assert ingest(landing, warehouse).rows_loaded == 4
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.customers where customer_id = 'c1'")
        con.execute("delete from raw.orders where customer_id = 'c1'")
        con.execute("insert into raw.erasure_ledger values (sha256(trim('c1')))")
        con.execute(
            "insert into raw.erasure_identifiers values ('order_id', sha256(trim('o1')), now())"
        )
        con.execute("drop schema _segmint cascade")
    return warehouse


def test_an_unkeyed_warehouse_is_migrated_once_and_erased_people_stay_out(tmp_path) -> None:
    root = tmp_path / "root"
    warehouse = _old_version_warehouse(root)
    key = load_key(warehouse)
    # Their old files are delivered again, next to a new customer.
    again = root / "again"
    _write(again / "customers_again.csv", "customer_id,email\nc1,one@example.com\nc3,x@y.z\n")
    _write(
        again / "orders_again.csv",
        "order_id,customer_id,ordered_at\no1,c1,2024-01-01T10:00:00\no3,c3,2024-01-03T10:00:00\n",
    )
    _write(again / "order_items_again.csv", "order_id,product_id,quantity,unit_price\no1,p1,1,5\n")
    report = ingest(again, warehouse)
    assert report.rows_loaded == 2 and report.rows_suppressed == 3  # c1, o1 and its line
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select customer_id from raw.customers order by 1").fetchall() == [
            ("c2",),
            ("c3",),
        ]
        assert con.execute("select count(*) from raw.order_items").fetchone() == (0,)
        ledger = con.execute("select customer_id_hash from raw.erasure_ledger").fetchall()
        identifiers = con.execute("select identifier_hash from raw.erasure_identifiers").fetchall()
        migrations = con.execute("select name from _segmint.migrations").fetchall()
    assert ledger == [(key.identifier_hash("c1"),)]
    assert identifiers == [(key.identifier_hash("o1"),)]
    assert migrations == [(KEYED_HASHES_MIGRATION,)]
    # Later commands on the migrated warehouse neither migrate again nor forget c1.
    cli = segmint(root, "forget", "--customer-id", "c2", timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    _write(again / "customers_third.csv", "customer_id\nc1\n")
    assert ingest(again, warehouse).rows_suppressed == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ledger = con.execute(
            "select customer_id_hash from raw.erasure_ledger order by 1"
        ).fetchall()
        (runs,) = con.execute("select count(*) from _segmint.migrations").fetchone()
    assert sorted(ledger) == sorted([(key.identifier_hash("c1"),), (key.identifier_hash("c2"),)])
    assert runs == 1
