"""Personal-data rules in one place: contact columns, keyed identifier hashes, erasure ledgers.

Who reads what:
- ingest keeps erased people out of re-delivered files (erased_row_sql);
- publish leaves out contact columns (PII_COLUMNS) and erased people's rows
  (erased_rows_filter);
- activation exports only consented, not-erased customers (ERASED / ELIGIBLE over the
  temp table filled by load_erased_hashes);
- segmint forget records erasures (ensure_ledgers, keyed_sql);
- dbt computes customer_key and flags erased customers with the macro `keyed_hash`
  (dbt_project/macros/privacy.sql), the same hash as identifier_hash and keyed_sql.

Identifier hashes are keyed, so a guessable id (C000123) cannot be reversed from a
customer_key or a ledger row by hashing candidates:

    identifier_hash(id) = hex(HMAC-SHA256(key, sha256_hex(trim(id))))

The key is the env var SEGMINT_HASH_KEY (hex, at least 32 bytes) or else the file
<warehouse dir>/segmint.key (32 random bytes as hex, mode 0600), created on first use. It
reaches SQL only as the two precomputed HMAC pads in the one-row table _segmint.hash_key
(written by prepare() through query parameters): never in SQL text, dbt vars, compiled SQL,
command lines or logs, and never published (publish copies marts, ml and activation).
Ledgers written before keyed hashes held sha256_hex(trim(id)); prepare() migrates them once
(HMAC over the stored value) and records that in _segmint.migrations.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmint.catalog import has_table, table_columns
from segmint.errors import SegmintError
from segmint.fs import create_once

# --------------------------------------------------------------------------- names

# One row per erased person: customer_id_hash = identifier_hash(customer_id), erased_at.
ERASURE_LEDGER = "raw.erasure_ledger"
# The erased people's other identifiers: identifier_kind says which column the hash is of
# (order_id: their orders, for order_items; anonymous_id: devices seen only with them;
# email: lower(trim(email)), for a new customer record of an erased person).
ERASURE_IDENTIFIERS = "raw.erasure_identifiers"
ERASED_ID_KINDS = ("order_id", "anonymous_id", "email")
# Bookkeeping of the ledgers: no personal data, never deleted from by an erasure.
LEDGER_TABLES = frozenset({("raw", "erasure_ledger"), ("raw", "erasure_identifiers")})
# Contact fields: kept in the working warehouse (exports need them), never published, masked
# in previews.
PII_COLUMNS = frozenset({"email", "phone", "first_name", "last_name", "postal_code"})

HASH_KEY_ENV = "SEGMINT_HASH_KEY"
KEY_FILE = "segmint.key"
KEY_BYTES = 32
HASH_KEY_TABLE = "_segmint.hash_key"
MIGRATIONS_TABLE = "_segmint.migrations"
KEYED_HASHES_MIGRATION = "keyed_identifier_hashes"
# Tables that keep a customer_key across runs (the rest are rebuilt by dbt every run).
_STORED_CUSTOMER_KEYS = (
    ("marts", "customers_snapshot"),
    ("activation", "audience_membership"),
    ("activation", "audience_run_members"),
)
_BLOCK = 64  # SHA-256 block size: HMAC pads are this long


class HashKeyError(SegmintError):
    """The identifier hash key is missing, malformed or not the one the warehouse uses."""


# --------------------------------------------------------------------------- the key


class HashKey:
    """The secret of the identifier hashes (its repr never shows it)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < KEY_BYTES:
            raise HashKeyError(f"the identifier hash key must have at least {KEY_BYTES} bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return f"HashKey(id={self.key_id})"

    @property
    def key_id(self) -> str:
        """A public fingerprint that tells two keys apart without revealing either."""
        return hmac.new(self._secret, b"segmint/hash-key-id", hashlib.sha256).hexdigest()[:16]

    def pads(self) -> tuple[bytes, bytes]:
        """HMAC's inner and outer pads (key XOR 0x36 / 0x5c, 64 bytes each)."""
        block = self._secret
        if len(block) > _BLOCK:
            block = hashlib.sha256(block).digest()
        block = block.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)

    def identifier_hash(self, value: str) -> str:
        """hex(HMAC-SHA256(key, sha256_hex(trim(value)))): what ledgers and customer_key hold.

        Like SQL trim (and ingest, which trims values the same way) only spaces are stripped.
        """
        inner = hashlib.sha256(value.strip(" ").encode("utf-8")).hexdigest()
        return hmac.new(self._secret, inner.encode("ascii"), hashlib.sha256).hexdigest()


def _parse_key(text: str, source: str) -> HashKey:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise HashKeyError(f"{source} is not hexadecimal") from None
    if len(secret) < KEY_BYTES:
        raise HashKeyError(f"{source} must hold at least {KEY_BYTES} bytes ({2 * KEY_BYTES} hex)")
    return HashKey(secret)


def key_file(warehouse: Path) -> Path:
    """Where the key of a warehouse is kept when SEGMINT_HASH_KEY is not set."""
    return Path(warehouse).parent / KEY_FILE


def load_key(warehouse: Path | None) -> HashKey:
    """SEGMINT_HASH_KEY when set, else the key file beside the warehouse (created once)."""
    env = os.environ.get(HASH_KEY_ENV)
    if env:
        return _parse_key(env, HASH_KEY_ENV)
    if warehouse is None:
        raise HashKeyError(
            f"an in-memory warehouse has no folder to keep its hash key in: set {HASH_KEY_ENV}"
        )
    path = key_file(warehouse)
    if not path.exists():
        create_once(path, (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii"), mode=0o600)
    return _parse_key(path.read_text(encoding="ascii"), str(path))


def warehouse_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the connection's database (None in memory)."""
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]) if row and row[0] else None


# --------------------------------------------------------------------------- SQL


def hmac_sql(hex_digest: str) -> str:
    """SQL: HMAC-SHA256 hex of a sha256 hex string, with the pads of _segmint.hash_key."""
    ipad = f"(select ipad from {HASH_KEY_TABLE})"
    opad = f"(select opad from {HASH_KEY_TABLE})"
    return f"sha256({opad} || unhex(sha256({ipad} || encode({hex_digest}))))"


def keyed_sql(expr: str) -> str:
    """SQL: identifier_hash of an expression (NULL stays NULL); same as the dbt macro."""
    return hmac_sql(f"sha256(trim(cast({expr} as varchar)))")


# --------------------------------------------------------------------------- prepare


def ensure_ledgers(con: duckdb.DuckDBPyConnection, erased_at: bool = False) -> None:
    """Create the erasure ledgers when missing (ingest reads them, forget writes them; forget
    adds the ledger's erased_at column, `erased_at=True`)."""
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists {ERASURE_LEDGER} (customer_id_hash varchar)")
    if erased_at:
        con.execute(f"alter table {ERASURE_LEDGER} add column if not exists erased_at timestamp")
    con.execute(
        f"create table if not exists {ERASURE_IDENTIFIERS} "
        "(identifier_kind varchar, identifier_hash varchar, erased_at timestamp)"
    )


def prepare(con: duckdb.DuckDBPyConnection, key: HashKey | None = None) -> HashKey:
    """Make keyed hashing available to SQL on this warehouse; returns the key.

    Writes the pads to _segmint.hash_key, refuses a key other than the one the warehouse's
    hashes were made with, and migrates unkeyed ledgers once (one transaction). Call it
    outside a transaction, before any SQL that hashes identifiers.
    """
    key = key or load_key(warehouse_file(con))
    con.execute("create schema if not exists _segmint")
    con.execute(
        f"create table if not exists {HASH_KEY_TABLE} "
        "(ipad blob not null, opad blob not null, key_id varchar not null)"
    )
    con.execute(
        f"create table if not exists {MIGRATIONS_TABLE} "
        "(name varchar not null, applied_at timestamp not null, detail varchar)"
    )
    stored = {str(r[0]) for r in con.execute(f"select key_id from {HASH_KEY_TABLE}").fetchall()}
    if stored and stored != {key.key_id}:
        raise HashKeyError(
            f"this warehouse's identifier hashes were made with another key (key id "
            f"{', '.join(sorted(stored))}, given {key.key_id}): erased people would no longer "
            f"be recognised. Restore that key ({HASH_KEY_ENV} or {KEY_FILE} beside the "
            "warehouse); nothing was changed."
        )
    migrated = con.execute(
        f"select count(*) from {MIGRATIONS_TABLE} where name = ?", [KEYED_HASHES_MIGRATION]
    ).fetchone()[0]
    if stored and migrated:
        return key
    con.begin()
    try:
        if not stored:
            ipad, opad = key.pads()
            con.execute(f"insert into {HASH_KEY_TABLE} values (?, ?, ?)", [ipad, opad, key.key_id])
        if not migrated:
            _migrate_to_keyed_hashes(con)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return key


def prepare_file(warehouse: Path) -> HashKey:
    """prepare() on a warehouse file, through a connection of its own (e.g. before dbt runs
    in a subprocess, which reads _segmint.hash_key)."""
    con = duckdb.connect(str(warehouse))
    try:
        return prepare(con, load_key(Path(warehouse)))
    finally:
        con.close()


def _migrate_to_keyed_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """Turn sha256 ledgers and stored customer_keys into keyed hashes (caller's transaction)."""
    rows = 0
    for (schema, table), column in (
        (("raw", "erasure_ledger"), "customer_id_hash"),
        (("raw", "erasure_identifiers"), "identifier_hash"),
    ):
        if has_table(con, schema, table):
            (n,) = con.execute(
                f"update {schema}.{table} set {column} = {hmac_sql(f'lower({column})')} "
                f"where {column} is not null"
            ).fetchone()
            rows += int(n)
    for schema, table in _STORED_CUSTOMER_KEYS:
        if has_table(con, schema, table) and {"customer_id", "customer_key"} <= set(
            table_columns(con, schema, table)
        ):
            con.execute(
                f"update {schema}.{table} set customer_key = {keyed_sql('customer_id')} "
                "where customer_id is not null"
            )
    con.execute(
        f"insert into {MIGRATIONS_TABLE} values (?, ?, ?)",
        [KEYED_HASHES_MIGRATION, datetime.now(UTC).replace(tzinfo=None), f"{rows} ledger rows"],
    )


# --------------------------------------------------------------------------- erased people


def ledger_has_rows(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether anybody was erased (False when the ledger does not exist)."""
    if not has_table(con, "raw", "erasure_ledger"):
        return False
    return bool(con.execute(f"select count(*) from {ERASURE_LEDGER}").fetchone()[0])


def erasure_kinds(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Which identifier columns the ledgers hold hashes of (empty: nobody erased)."""
    kinds: set[str] = {"customer_id"} if ledger_has_rows(con) else set()
    if has_table(con, "raw", "erasure_identifiers"):
        rows = con.execute(
            f"select distinct identifier_kind from {ERASURE_IDENTIFIERS} "
            "where identifier_hash is not null"
        ).fetchall()
        kinds.update(k for (k,) in rows if k in ERASED_ID_KINDS)
    return frozenset(kinds)


def _erased_values(value: str, source: str, ledger_query: str) -> str:
    """SQL: `value` is one of the erased values, hashing each distinct value of the
    relation `source` once (not every row: a file of 10M events has far fewer ids)."""
    return (
        f"{value} in (select d.v from (select distinct {value} as v from {source}) d "
        f"where {keyed_sql('d.v')} in ({ledger_query}))"
    )


def erased_row_sql(columns: set[str], kinds: frozenset[str], source: str) -> str:
    """SQL over relation `source` with typed columns t_<name>: the row belongs to an erased
    person (ingest). Same rule as segmint forget: their customer_id; one of their order ids
    (order_items carry no customer_id); an anonymous_id of theirs on a row without one; one
    of their e-mails (lower(trim)), so a new record of an erased person stays out too."""
    out: list[str] = []
    if "customer_id" in kinds and "customer_id" in columns:
        out.append(
            _erased_values(
                "t_customer_id",
                source,
                f"select lower(customer_id_hash) from {ERASURE_LEDGER}",
            )
        )
    for kind in ERASED_ID_KINDS:
        if kind not in kinds or kind not in columns:
            continue
        ids = (
            f"select lower(identifier_hash) from {ERASURE_IDENTIFIERS} "
            f"where identifier_kind = '{kind}'"
        )
        value = "lower(trim(t_email))" if kind == "email" else f"t_{kind}"
        test = _erased_values(value, source, ids)
        if kind == "anonymous_id" and "customer_id" in columns:
            test = f"(t_customer_id is null and {test})"
        out.append(test)
    return " or ".join(f"coalesce({c}, false)" for c in out) if out else "false"


def erased_rows_filter(relation: str, columns: list[str] | set[str], active: bool) -> str:
    """A WHERE clause that drops rows of customers in the erasure ledger ('' when the table
    has no customer_id column or nobody is erased: `active` = ledger_has_rows)."""
    if not active or "customer_id" not in columns:
        return ""
    erased = _erased_values(
        "customer_id", relation, f"select lower(customer_id_hash) from {ERASURE_LEDGER}"
    )
    return f" where customer_id is null or not coalesce({erased}, false)"


# Consent and erasure of a marts.customer_targeting row `t`. Every member set and every
# delivered row of an export passes through ELIGIBLE. Both read temp table _segmint_erased
# (load_erased_hashes): the ledger is checked directly, not only through the mart's flag.
ERASED = (
    f"(coalesce(t.is_erased, false) or {keyed_sql('t.customer_id')} "
    "in (select h from _segmint_erased))"
)
ELIGIBLE = f"(coalesce(t.marketing_consent, false) and not {ERASED})"


def load_erased_hashes(con: duckdb.DuckDBPyConnection) -> int:
    """Fill temp table _segmint_erased(h) with the ledger's customer id hashes; returns rows.

    `keyed_sql(customer_id) in (select h from _segmint_erased)` tells an erased customer.
    """
    con.execute("create or replace temp table _segmint_erased (h varchar)")
    if has_table(con, "raw", "erasure_ledger"):
        con.execute(
            f"""
            insert into _segmint_erased
            select distinct lower(customer_id_hash) from {ERASURE_LEDGER}
            where customer_id_hash is not null
            """
        )
    row = con.execute("select count(*) from _segmint_erased").fetchone()
    return int(row[0]) if row else 0
