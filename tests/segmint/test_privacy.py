"""Keyed identifier hashes: Python = SQL = HMAC-SHA256, the key file, key changes, migration."""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import stat
from pathlib import Path

import duckdb
import pytest

from segmint import privacy
from segmint.privacy import (
    HASH_KEY_ENV,
    HashKey,
    HashKeyError,
    keyed_sql,
    load_key,
    prepare,
)

KEY = bytes(range(32))
VALUES = ["C0000042", " c1 ", "c1", "é€😀", "0001", "a'b", "x" * 200, ""]


def reference(key: bytes, value: str) -> str:
    """The definition, independently: hex(HMAC-SHA256(key, sha256_hex(trim(id))))."""
    inner = hashlib.sha256(value.strip(" ").encode("utf-8")).hexdigest()
    return hmac.new(key, inner.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    prepare(c, HashKey(KEY))
    yield c
    c.close()


def test_python_and_sql_hashes_equal_hmac_sha256(con) -> None:
    key = HashKey(KEY)
    for value in VALUES:
        (sql,) = con.execute(f"select {keyed_sql('?')}", [value]).fetchone()
        assert sql == key.identifier_hash(value) == reference(KEY, value), value
    assert key.identifier_hash(" c1 ") == key.identifier_hash("c1")  # trimmed, like ingest
    (null,) = con.execute(f"select {keyed_sql('null')}").fetchone()
    assert null is None


def test_keyed_hash_is_not_the_plain_sha256_and_depends_on_the_key() -> None:
    value = "C0000042"
    plain = hashlib.sha256(value.encode()).hexdigest()
    one, other = HashKey(KEY), HashKey(bytes(reversed(KEY)))
    assert one.identifier_hash(value) != plain
    assert one.identifier_hash(value) != other.identifier_hash(value)
    assert one.key_id != other.key_id
    assert KEY.hex() not in repr(one) and one.key_id in repr(one)


def test_key_comes_from_the_environment_first(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(HASH_KEY_ENV, KEY.hex())
    assert load_key(tmp_path / "segmint.duckdb").key_id == HashKey(KEY).key_id
    assert not (tmp_path / "segmint.key").exists()
    monkeypatch.setenv(HASH_KEY_ENV, "not hex at all, a passphrase")
    with pytest.raises(HashKeyError) as bad:
        load_key(tmp_path / "segmint.duckdb")
    assert "passphrase" not in str(bad.value)
    monkeypatch.setenv(HASH_KEY_ENV, "ab" * 16)  # 16 bytes: too short
    with pytest.raises(HashKeyError, match="at least 32 bytes"):
        load_key(tmp_path / "segmint.duckdb")


def test_key_file_is_created_once_beside_the_warehouse_mode_0600(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)
    warehouse = tmp_path / "wh" / "segmint.duckdb"
    first = load_key(warehouse)
    path = tmp_path / "wh" / "segmint.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(text) == 64 and bytes.fromhex(text)
    assert load_key(warehouse).key_id == first.key_id  # reused, not replaced
    assert [p.name for p in path.parent.iterdir()] == ["segmint.key"]  # no temp file left
    with pytest.raises(HashKeyError, match=HASH_KEY_ENV):
        load_key(None)  # in memory: nowhere to keep a key


def _race(args: tuple[str, str]) -> str:
    folder, _ = args
    return load_key(Path(folder) / "segmint.duckdb").key_id


def test_processes_racing_to_create_the_key_file_agree(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.map(_race, [(str(tmp_path), str(i)) for i in range(8)])
    assert len(set(ids)) == 1
    assert ids[0] == load_key(tmp_path / "segmint.duckdb").key_id


def test_another_key_is_refused_and_changes_nothing(con) -> None:
    privacy.ensure_ledgers(con, erased_at=True)
    key = HashKey(KEY)
    con.execute("insert into raw.erasure_ledger values (?, now())", [key.identifier_hash("c1")])
    with pytest.raises(HashKeyError, match="another key") as refused:
        prepare(con, HashKey(bytes(reversed(KEY))))
    assert KEY.hex() not in str(refused.value)
    (rows,) = con.execute("select count(*) from _segmint.hash_key").fetchone()
    assert rows == 1
    assert prepare(con, key).key_id == key.key_id  # the right key is fine, again and again


def test_unkeyed_ledgers_and_stored_keys_are_migrated_once() -> None:
    c = duckdb.connect()
    # A warehouse of the previous version: sha256 hex of the trimmed ids, no _segmint schema.
    c.execute("create schema raw; create schema marts; create schema activation")
    c.execute("create table raw.erasure_ledger (customer_id_hash varchar, erased_at timestamp)")
    c.execute("insert into raw.erasure_ledger values (upper(sha256('c1')), now()), (null, now())")
    c.execute(
        "create table raw.erasure_identifiers "
        "(identifier_kind varchar, identifier_hash varchar, erased_at timestamp)"
    )
    c.execute("insert into raw.erasure_identifiers values ('order_id', sha256('o1'), now())")
    c.execute(
        "create table marts.customers_snapshot as "
        "select 'c2' as customer_id, sha256('c2') as customer_key"
    )
    c.execute(
        "create table activation.audience_membership as "
        "select 'c3' as customer_id, sha256('c3') as customer_key, 'a' as audience"
    )
    key = HashKey(KEY)
    prepare(c, key)
    ledger = c.execute("select customer_id_hash from raw.erasure_ledger order by 1").fetchall()
    assert ledger == [(key.identifier_hash("c1"),), (None,)]
    assert c.execute("select identifier_hash from raw.erasure_identifiers").fetchall() == [
        (key.identifier_hash("o1"),)
    ]
    assert c.execute("select customer_key from marts.customers_snapshot").fetchone() == (
        key.identifier_hash("c2"),
    )
    assert c.execute("select customer_key from activation.audience_membership").fetchone() == (
        key.identifier_hash("c3"),
    )
    migrations = c.execute("select name, detail from _segmint.migrations").fetchall()
    assert migrations == [(privacy.KEYED_HASHES_MIGRATION, "2 ledger rows")]  # both ledgers
    # Once: a later prepare leaves keyed rows alone.
    prepare(c, key)
    prepare(c, key)
    assert c.execute("select count(*) from _segmint.migrations").fetchone() == (1,)
    assert c.execute("select customer_id_hash from raw.erasure_ledger order by 1").fetchall() == (
        ledger
    )
    c.close()


def test_a_new_warehouse_records_the_migration_without_rewriting_anything(con) -> None:
    # `con` was prepared before any ledger existed: rows written later are keyed already.
    privacy.ensure_ledgers(con, erased_at=True)
    value = HashKey(KEY).identifier_hash("c9")
    con.execute("insert into raw.erasure_ledger values (?, now())", [value])
    prepare(con, HashKey(KEY))
    assert con.execute("select customer_id_hash from raw.erasure_ledger").fetchall() == [(value,)]
    (detail,) = con.execute("select detail from _segmint.migrations").fetchone()
    assert detail == "0 ledger rows"
