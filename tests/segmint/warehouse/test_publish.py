"""The published snapshot: atomic swap, manifest, PII left out, readers never disturbed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from segmint import privacy
from segmint.warehouse import publish, read_manifest, verify_published


def _working(path: Path, n: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts; create schema if not exists raw")
    con.execute(
        "create or replace table marts.customer_360 as select range::varchar customer_id, "
        "'p' || range || '@example.com' email, range * 1.5 monetary from range(?)",
        [n],
    )
    con.execute("create or replace table raw.orders as select 1 x")
    con.close()
    return path


def _keys(*ids: str) -> set[str]:
    """The pseudonyms analysts see for these customer ids (the suite's fixed hash key)."""
    key = privacy.load_key(None)
    return {key.identifier_hash(i) for i in ids}


def test_published_tables_carry_customer_key_instead_of_customer_id(tmp_path: Path) -> None:
    """The README's promise: analysts get the pseudonym, and every table joins on it.

    A model output that only has customer_id (ml.*) gets the same customer_key as the mart
    that has both; no published table keeps the shop's customer id."""
    w = _working(tmp_path / "w.duckdb", 3)
    con = duckdb.connect(str(w))
    privacy.prepare(con)
    con.execute(
        f"create or replace table marts.customer_360 as select *, "
        f"{privacy.keyed_sql('customer_id')} as customer_key from marts.customer_360"
    )
    con.execute("create schema ml")
    con.execute(
        "create table ml.churn_scores as select range::varchar customer_id, "
        "0.5 churn_probability from range(3)"
    )
    con.close()
    publish(w, tmp_path / "pub.duckdb")
    with duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True) as pub:
        with_ids = pub.execute(
            "select table_schema || '.' || table_name from information_schema.columns "
            "where column_name = 'customer_id'"
        ).fetchall()
        joined = pub.execute(
            "select count(*) from ml.churn_scores join marts.customer_360 using (customer_key)"
        ).fetchone()[0]
        keys = {r[0] for r in pub.execute("select customer_key from ml.churn_scores").fetchall()}
    assert with_ids == []
    assert joined == 3
    assert keys == _keys("0", "1", "2")


def test_publish_copies_analyst_schemas_without_pii(tmp_path: Path) -> None:
    w = _working(tmp_path / "w.duckdb", 10)
    counts = publish(w, tmp_path / "pub.duckdb", run_id="r1")
    assert counts == {"marts.customer_360": 10}
    assert read_manifest(tmp_path / "pub.duckdb") == counts
    assert verify_published(tmp_path / "pub.duckdb") == {}
    con = duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True)
    cols = [r[0] for r in con.execute("describe marts.customer_360").fetchall()]
    schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    con.close()
    assert "email" not in cols and "monetary" in cols
    assert "raw" not in schemas


def test_failed_publish_keeps_previous_snapshot(tmp_path: Path, monkeypatch) -> None:
    w = _working(tmp_path / "w.duckdb", 5)
    pub = tmp_path / "pub.duckdb"
    publish(w, pub, run_id="good")
    _working(w, 7)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("segmint.warehouse.snapshot.fsync_dir", boom)
    with pytest.raises(OSError):
        publish(w, pub, run_id="bad")
    assert read_manifest(pub) == {"marts.customer_360": 5}
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_reader_holding_snapshot_sees_old_or_new_never_errors(tmp_path: Path) -> None:
    w = _working(tmp_path / "w.duckdb", 3)
    pub = tmp_path / "pub.duckdb"
    publish(w, pub, run_id="first")
    reader = textwrap.dedent(
        f"""
        import duckdb, time
        errors = 0; seen = set()
        deadline = time.time() + 6
        while time.time() < deadline:
            try:
                con = duckdb.connect({str(pub)!r}, read_only=True)
                seen.add(con.execute("select count(*) from marts.customer_360").fetchone()[0])
                con.close()
            except Exception as exc:
                errors += 1; print(repr(exc))
        print("ERRORS", errors, "SEEN", sorted(seen))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", reader], stdout=subprocess.PIPE, text=True)
    for n in range(4, 40):
        _working(w, n)
        publish(w, pub, run_id=f"r{n}")
    out, _ = proc.communicate(timeout=60)
    assert "ERRORS 0" in out, out
    assert read_manifest(pub) == {"marts.customer_360": 39}


def test_publish_leaves_out_rows_of_erased_customers(tmp_path: Path) -> None:
    """A membership kept in the working warehouse until the vendor removal is sent must not
    reach the published file once the person is in the erasure ledger."""
    w = _working(tmp_path / "w.duckdb", 4)
    con = duckdb.connect(str(w))
    con.execute("create schema activation")
    con.execute(
        "create table activation.audience_membership as "
        "select range::varchar customer_id, 'winback' audience from range(4)"
    )
    con.execute("create table raw.erasure_ledger (customer_id_hash varchar)")
    # A ledger row written before hashes were keyed: sha256 hex of the trimmed id (upper
    # case here on purpose). Publish migrates it to the keyed hash before filtering.
    con.execute("insert into raw.erasure_ledger select upper(sha256('2'))")
    con.close()
    counts = publish(w, tmp_path / "pub.duckdb", run_id="r1")
    assert counts == {"activation.audience_membership": 3, "marts.customer_360": 3}
    with duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True) as pub:
        for table in ("activation.audience_membership", "marts.customer_360"):
            keys = {r[0] for r in pub.execute(f"select customer_key from {table}").fetchall()}
            assert keys == _keys("0", "1", "3"), table
    assert verify_published(tmp_path / "pub.duckdb") == {}


def test_publish_leaves_out_rows_of_customers_ledgered_with_the_keyed_hash(tmp_path: Path) -> None:
    w = _working(tmp_path / "w.duckdb", 4)
    con = duckdb.connect(str(w))
    key = privacy.prepare(con)
    privacy.ensure_ledgers(con, erased_at=True)
    con.execute("insert into raw.erasure_ledger values (?, now())", [key.identifier_hash(" 1 ")])
    con.close()
    counts = publish(w, tmp_path / "pub.duckdb", run_id="r1")
    assert counts == {"marts.customer_360": 3}
    with duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True) as pub:
        keys = {r[0] for r in pub.execute("select customer_key from marts.customer_360").fetchall()}
        schemas = {r[0] for r in pub.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert keys == _keys("0", "2", "3")
    # The identifier hash key (its HMAC pads) stays in the working warehouse.
    assert "_segmint" in schemas  # the manifest
    with duckdb.connect(str(tmp_path / "pub.duckdb"), read_only=True) as pub:
        tables = pub.execute(
            "select table_name from information_schema.tables where table_schema = '_segmint'"
        ).fetchall()
    assert tables == [("manifest",)]


def test_published_snapshot_documents_every_table_and_column(twice) -> None:
    """An analyst's SQL client shows a description for every published table and column:
    dbt's persisted docs, the tables.yml beside the Python code that writes ml.* and
    activation.*, and for columns dbt passes through, the model they come from."""
    con = duckdb.connect(str(twice.settings.published_path), read_only=True)
    try:
        where = (
            "database_name = current_database() and schema_name in ('marts', 'ml', 'activation')"
        )
        bare_tables = con.execute(
            f"select schema_name || '.' || table_name from duckdb_tables() "
            f"where {where} and comment is null"
        ).fetchall()
        bare_columns = con.execute(
            f"select schema_name || '.' || table_name || '.' || column_name from duckdb_columns() "
            f"where {where} and comment is null"
        ).fetchall()
        (n_columns,) = con.execute(
            f"select count(*) from duckdb_columns() where {where}"
        ).fetchone()
        passed_through = con.execute(
            "select t.comment = c.comment from duckdb_columns() t join duckdb_columns() c "
            "on t.column_name = c.column_name and c.table_name = 'customer_360' "
            "and c.schema_name = 'marts' "
            "where t.schema_name = 'marts' and t.table_name = 'customer_targeting' "
            "and t.column_name = 'recency_days'"
        ).fetchall()
    finally:
        con.close()
    assert n_columns > 300
    assert bare_tables == [] and bare_columns == []
    assert passed_through == [(True,)]


def test_every_python_written_table_has_its_tables_yml(twice) -> None:
    """A new ml.* or activation.* table without documentation fails here, not in an analyst's
    client: each one the pipeline wrote is in a tables.yml with every column it has."""
    from segmint.catalog import list_tables, table_columns
    from segmint.warehouse.docs import python_table_docs

    docs = python_table_docs()
    con = duckdb.connect(str(twice.settings.warehouse), read_only=True)
    try:
        missing = []
        for schema, table in list_tables(con, ("ml", "activation"), base_only=True):
            if schema == "activation" and table == "holdout_readout":  # a dbt model
                continue
            documented = docs.get((schema, table), {}).get("columns", {})
            missing += [
                f"{schema}.{table}.{c}"
                for c in table_columns(con, schema, table)
                if c not in documented
            ]
    finally:
        con.close()
    assert missing == []
