"""Right to erasure after a real pipeline run: `forget` removes the person from every layer
of the working warehouse and from the published file, leaves everyone else alone, records a
hash only, and an old file delivered again does not bring them back.

"The person" is every row that carries one of their identifiers in any text column:
customer_id, customer_key (sha256 of it), an email or phone of theirs, one of their order
ids, or an anonymous id seen with them and nobody else. The scan covers every table and
view of every schema, not only the ones forget knows about.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from segmint.erasure import forget
from segmint.warehouse import read_manifest, verify_published
from tests.conftest import make_settings
from tests.reliability.conftest import copy_root, pipeline, segmint

pytestmark = pytest.mark.timeout(1800)  # shares a pipeline run, then runs one more

ERASE_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml")


@dataclass
class Person:
    ids: set[str]
    emails: set[str]
    phones: set[str]
    keys: set[str]
    orders: set[str]
    anon: set[str]

    def values(self) -> set[str]:
        """Values matched exactly (trimmed) against every text column."""
        return self.ids | self.phones | self.keys | self.orders | self.anon


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def identify(db: Path, customer_id: str) -> Person:
    """Everything that identifies one customer in a working warehouse."""
    with duckdb.connect(str(db), read_only=True) as con:

        def col(sql: str) -> set[str]:
            return {str(r[0]).strip() for r in con.execute(sql, [customer_id]).fetchall() if r[0]}

        emails = col(
            "select lower(trim(email)) from raw.customers where customer_id = $1 union "
            "select lower(trim(email)) from quarantine.customers where trim(customer_id) = $1"
        )
        phones = col(
            "select phone from raw.customers where customer_id = $1 union "
            "select phone from quarantine.customers where trim(customer_id) = $1"
        )
        orders = col(
            "select order_id from raw.orders where customer_id = $1 union "
            "select order_id from quarantine.orders where trim(customer_id) = $1"
        )
        anon = col(
            "select anonymous_id from raw.events where anonymous_id is not null "
            "and customer_id is not null group by 1 having bool_and(customer_id = $1)"
        )
    return Person({customer_id}, emails, phones, {_sha(customer_id)}, orders, anon)


def relations(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] | None = None) -> list:
    sql = (
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_catalog = current_database()"
    )
    rows = con.execute(sql + " order by 1, 2").fetchall()
    return [r for r in rows if schemas is None or r[0] in schemas]


def hits(db: Path, person: Person, base_only: bool = False) -> dict[str, int]:
    """Rows per table/view that carry any identifier of the person (in any text column)."""
    out: dict[str, int] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("create temp table _v (v varchar)")
        con.executemany("insert into _v values (?)", [[v] for v in person.values()])
        con.execute("create temp table _e (e varchar)")
        con.executemany("insert into _e values (?)", [[e] for e in person.emails])
        for schema, table, type_ in relations(con):
            if schema == "temp" or (base_only and type_ != "BASE TABLE"):
                continue
            if (schema, table) == ("raw", "erasure_ledger"):
                # Holds sha256(customer_id) by design (= customer_key); checked on its own.
                continue
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_catalog = "
                    "current_database() and table_schema = ? and table_name = ? and "
                    "data_type = 'VARCHAR'",
                    [schema, table],
                ).fetchall()
            ]
            if not cols:
                continue
            cond = " or ".join(
                f'trim("{c}") in (select v from _v) or exists '
                f'(select 1 from _e where contains(lower("{c}"), _e.e))'
                for c in cols
            )
            (n,) = con.execute(f'select count(*) from "{schema}"."{table}" where {cond}').fetchone()
            if n:
                out[f"{schema}.{table}"] = int(n)
    return out


def row_counts(db: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            f"{s}.{t}": int(con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0])
            for s, t, type_ in relations(con, schemas)
            if type_ == "BASE TABLE"
        }


def redeliver(landing: Path, ids: set[str]) -> dict[str, int]:
    """Old files delivered again: every original file of the people's tables rewritten
    (same values, different bytes, so ingest does not skip them as already loaded).
    Returns their rows per table in them (by customer_id)."""
    theirs: dict[str, int] = {}
    for table in ("customers", "orders", "order_items", "events"):
        originals = sorted(p for p in (landing / table).glob("*.csv") if "redeliver" not in p.name)
        for i, src in enumerate(originals):
            with src.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            dest = landing / table / f"{table}_redelivered_{i:03d}.csv"
            with dest.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh, quoting=csv.QUOTE_MINIMAL).writerows(rows)
            header = rows[0]
            if "customer_id" in header:
                k = header.index("customer_id")
                n = sum(1 for r in rows[1:] if len(r) > k and r[k].strip() in ids)
                theirs[table] = theirs.get(table, 0) + n
    return theirs


@pytest.fixture(scope="module")
def erasure(baseline, tmp_path_factory):
    run = copy_root(baseline, tmp_path_factory.mktemp("erasure") / "root")
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        # The most spread-out active audience member: has orders, events, quarantined rows.
        (by_id,) = con.execute(
            """
            select m.customer_id from activation.audience_membership m
            where m.status = 'active' and not m.in_holdout
            group by 1
            order by (select count(*) from quarantine.orders q
                      where trim(q.customer_id) = m.customer_id) desc,
                     (select count(*) from raw.events e where e.customer_id = m.customer_id) desc,
                     1
            limit 1
            """
        ).fetchone()
        # Someone with a raw row and a quarantined row, erased by email (any case, spaces).
        (by_email_id, email) = con.execute(
            """
            select c.customer_id, q.email from raw.customers c
            join quarantine.customers q on trim(q.customer_id) = c.customer_id
            where q.email is not null and c.customer_id <> ?
            order by 1 limit 1
            """,
            [by_id],
        ).fetchone()
    people = {"id": identify(run.warehouse, by_id), "email": identify(run.warehouse, by_email_id)}
    before_hits = {k: hits(run.warehouse, p, base_only=True) for k, p in people.items()}
    before_counts = row_counts(run.warehouse, ERASE_SCHEMAS)
    before_manifest = read_manifest(run.published)
    settings = make_settings(run.root, run.landing)
    report = forget(settings, customer_id=f"  {by_id} ")
    cli = segmint(run.root, "forget", "--email", f"  {email.upper()} ", timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    return {
        "run": run,
        "people": people,
        "before_hits": before_hits,
        "before_counts": before_counts,
        "before_manifest": before_manifest,
        "report": report,
        "cli": cli,
        "settings": settings,
    }


def test_person_spread_over_every_layer_before(erasure) -> None:
    # The chosen person really is in raw, quarantine, intermediate, marts, ml and activation.
    layers = {name.split(".")[0] for name in erasure["before_hits"]["id"]}
    assert {"raw", "quarantine", "intermediate", "marts", "ml", "activation"} <= layers
    assert "marts.customers_snapshot" in erasure["before_hits"]["id"]
    assert erasure["people"]["id"].orders and erasure["people"]["id"].emails


def test_report_counts_per_layer(erasure) -> None:
    report = erasure["report"]
    person = erasure["people"]["id"]
    layers = report.per_layer()
    for layer in ("raw", "quarantine", "intermediate", "marts", "ml", "activation"):
        assert layers[layer] > 0, layers
    assert report.customer_id_hashes == sorted(person.keys)
    assert not report.already_erased
    assert report.published == erasure["run"].published
    assert "raw" in erasure["cli"].stdout and "marts" in erasure["cli"].stdout


def test_person_is_gone_from_every_table_and_the_published_file(erasure) -> None:
    run, report = erasure["run"], erasure["report"]
    for key, person in erasure["people"].items():
        left = hits(run.warehouse, person)
        # Only exported memberships wait for the next export to send their removal; they
        # hold customer_id / customer_key, no contact data.
        pending = left.pop("activation.audience_membership", 0)
        assert left == {}, (key, left)
        with duckdb.connect(str(run.warehouse), read_only=True) as con:
            statuses = con.execute(
                "select distinct status, in_holdout from activation.audience_membership "
                "where customer_id in (select unnest(?))",
                [sorted(person.ids)],
            ).fetchall()
        assert set(statuses) <= {("active", False)}, statuses
        if key == "id":
            assert pending == report.pending_removals > 0
        assert hits(run.published, person) == {}, key
    assert verify_published(run.published) == {}


def test_ledger_holds_hashes_and_no_personal_data(erasure) -> None:
    db = erasure["run"].warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe raw.erasure_ledger").fetchall()]
        rows = con.execute("select customer_id_hash, erased_at from raw.erasure_ledger").fetchall()
    assert cols == ["customer_id_hash", "erased_at"]
    expected = set().union(*(p.keys for p in erasure["people"].values()))
    assert {r[0] for r in rows} == expected and len(rows) == 2
    assert all(r[1] is not None for r in rows)
    for person in erasure["people"].values():
        text = repr(rows).lower()
        assert not any(v.lower() in text for v in person.ids | person.emails | person.phones)


def test_other_customers_untouched(erasure) -> None:
    after = row_counts(erasure["run"].warehouse, ERASE_SCHEMAS)
    before = erasure["before_counts"]
    theirs: dict[str, int] = {}
    for person_hits in erasure["before_hits"].values():
        for name, n in person_hits.items():
            theirs[name] = theirs.get(name, 0) + n
    expected = {k: v - theirs.get(k, 0) for k, v in before.items() if k != "raw.erasure_ledger"}
    actual = {k: v for k, v in after.items() if k != "raw.erasure_ledger"}
    assert actual == expected
    assert after["marts.customer_360"] == before["marts.customer_360"] - 2
    # Published: per-customer tables lose exactly the two, aggregates are unchanged.
    manifest = read_manifest(erasure["run"].published)
    assert manifest["marts.customer_360"] == erasure["before_manifest"]["marts.customer_360"] - 2
    assert manifest["marts.daily_demand"] == erasure["before_manifest"]["marts.daily_demand"]


def test_forget_again_is_a_harmless_no_op(erasure) -> None:
    person = erasure["people"]["id"]
    report = forget(erasure["settings"], customer_id=next(iter(person.ids)))
    assert report.already_erased
    assert report.total == 0
    bad = segmint(erasure["run"].root, "forget", "--email", "nobody@example.invalid")
    assert bad.returncode == 2 and "no customer" in bad.stderr


@pytest.fixture(scope="module")
def rerun(erasure):
    """Old files delivered again, then a full pipeline run on the erased warehouse."""
    run = erasure["run"]
    ids = set().union(*(p.ids for p in erasure["people"].values()))
    theirs = redeliver(run.landing, ids)
    return pipeline(run.root), theirs


def test_redelivered_files_do_not_bring_them_back(erasure, rerun) -> None:
    run = erasure["run"]
    _, theirs = rerun
    assert theirs["orders"] > 0 and theirs["events"] > 0 and theirs["customers"] > 0
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        files = con.execute(
            "select count(*) from raw.load_ledger where file_path like '%redelivered%' "
            "and status = 'loaded'"
        ).fetchone()[0]
        assert files >= 4
        for table in ("customers", "orders", "events"):
            rows = con.execute(
                f"select customer_id, _reason from quarantine.{table} "
                "where _reason like '%erased_customer%' and _source_file like '%redelivered%'"
            ).fetchall()
            # Every row of theirs is quarantined with the reason, and its values blanked.
            assert len(rows) == theirs[table], table
            assert all(r[0] is None for r in rows), table
    for key, person in erasure["people"].items():
        # Everything that carries their customer id, key, email or phone stays gone.
        direct = Person(person.ids, person.emails, person.phones, person.keys, set(), set())
        assert hits(run.warehouse, direct) == {}, key
        assert hits(run.published, direct) == {}, key
    assert verify_published(run.published) == {}
    assert read_manifest(run.published)["marts.customer_360"] == (
        erasure["before_manifest"]["marts.customer_360"] - 2
    )


@pytest.mark.xfail(
    strict=True,
    reason="ingest checks the erasure ledger only on tables with customer_id: re-delivered "
    "order_items of erased orders and anonymous events of erased devices load again "
    "(segmint/ingest.py _validate_and_load, `erased` condition)",
)
def test_redelivered_order_items_and_anonymous_events_stay_out(erasure, rerun) -> None:
    run = erasure["run"]
    for person in erasure["people"].values():
        indirect = Person(set(), set(), set(), set(), person.orders, person.anon)
        assert hits(run.warehouse, indirect, base_only=True) == {}
