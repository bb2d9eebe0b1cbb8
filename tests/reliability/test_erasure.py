"""Right to erasure after a real pipeline run: `forget` removes the person from every layer
of the working warehouse and from the published file, leaves everyone else alone, records a
hash only, and an old file delivered again does not bring them back.

"The person" is every row that carries one of their identifiers in any text column:
customer_id, customer_key (its keyed hash), an email or phone of theirs, one of their order
ids, or an anonymous id seen with them and nobody else. The scan covers every table and
view of every schema, not only the ones forget knows about.

A third person, a holdout-group member, is erased too and then their activation state is
put back as an older backup would restore it: the next pipeline run must purge it again.
`forget` refuses while a pipeline run holds the warehouse (file lock or live Dagster run).
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.runner import running_pipeline_runs
from segmint.erasure import EXIT_RUN_IN_PROGRESS
from segmint.erasure import forget as forget_with
from segmint.privacy import load_key
from segmint.warehouse import read_manifest, verify_published
from tests.conftest import make_settings
from tests.reliability.conftest import copy_root, pipeline, segmint

pytestmark = pytest.mark.timeout(1800)  # shares a pipeline run, then runs one more

ERASE_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml")
LEDGERS = ("raw.erasure_ledger", "raw.erasure_identifiers")  # hashes only, checked apart
ACTIVATION_STATE = ("audience_membership", "audience_run_members", "audience_holdout")


@dataclass
class Person:
    ids: set[str]
    emails: set[str]
    phones: set[str]
    keys: set[str]
    orders: set[str]
    anon: set[str]

    def values(self) -> set[str]:
        """Values matched exactly (trimmed) against every text column: also the actor keys
        their events are sessionized under (int_inactivity_sessions.actor_key)."""
        actors = {f"customer:{i}" for i in self.ids} | {f"anonymous:{a}" for a in self.anon}
        return self.ids | self.phones | self.keys | self.orders | self.anon | actors


def _sha(value: str) -> str:
    """Plain sha256 hex: what ledgers and customer_key held before hashes were keyed."""
    return hashlib.sha256(value.encode()).hexdigest()


def forget(settings, **person):
    """segmint forget as the CLI calls it: refusing while a pipeline run is executing."""
    return forget_with(settings, **person, live_runs=lambda: running_pipeline_runs(settings))


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
    key = load_key(db).identifier_hash(customer_id)
    return Person({customer_id}, emails, phones, {key}, orders, anon)


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
        con.execute("insert into _v select unnest(?::varchar[])", [sorted(person.values())])
        con.execute("create temp table _e (e varchar)")
        con.execute("insert into _e select unnest(?::varchar[])", [sorted(person.emails)])
        for schema, table, type_ in relations(con):
            if schema == "temp" or (base_only and type_ != "BASE TABLE"):
                continue
            if f"{schema}.{table}" in LEDGERS:
                # Hold keyed hashes of the ids by design (= customer_key); checked apart.
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


def redeliver(landing: Path, people: list[Person]) -> dict[str, int]:
    """Old files delivered again: every original file of the people's tables rewritten
    (same values, different bytes, so ingest does not skip them as already loaded).
    Returns their rows per table in them: by customer_id, else by one of their order ids
    (order_items), else by one of their anonymous ids on a row without customer_id."""
    ids = set().union(*(p.ids for p in people))
    orders = set().union(*(p.orders for p in people))
    anon = set().union(*(p.anon for p in people))
    theirs: dict[str, int] = {}
    for table in ("customers", "orders", "order_items", "events"):
        originals = sorted(p for p in (landing / table).glob("*.csv") if "redeliver" not in p.name)
        for i, src in enumerate(originals):
            with src.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            dest = landing / table / f"{table}_redelivered_{i:03d}.csv"
            with dest.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh, quoting=csv.QUOTE_MINIMAL).writerows(rows)
            col = {name: k for k, name in enumerate(rows[0])}

            def value(row: list[str], name: str, col: dict[str, int] = col) -> str:
                k = col.get(name)
                return row[k].strip() if k is not None and k < len(row) else ""

            n = sum(
                1
                for r in rows[1:]
                if value(r, "customer_id") in ids
                or value(r, "order_id") in orders
                or (not value(r, "customer_id") and value(r, "anonymous_id") in anon)
            )
            theirs[table] = theirs.get(table, 0) + n
    return theirs


def activation_state(db: Path, ids: set[str], column: str = "customer_id") -> dict[str, list]:
    """Every activation state row of these customers, per table (the published file has
    customer_key in place of customer_id)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            t: con.execute(
                f"select * from activation.{t} where {column} in (select unnest(?))",
                [sorted(ids)],
            ).fetchall()
            for t in ACTIVATION_STATE
        }


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
        # A holdout-group member (never exported anywhere): erased, then restored (rerun).
        (by_holdout,) = con.execute(
            """
            select customer_id from activation.audience_membership
            where customer_id not in (?, ?)
            group by 1 having bool_and(in_holdout)
            order by 1 limit 1
            """,
            [by_id, by_email_id],
        ).fetchone()
    people = {
        "id": identify(run.warehouse, by_id),
        "email": identify(run.warehouse, by_email_id),
        "holdout": identify(run.warehouse, by_holdout),
    }
    holdout_state = activation_state(run.warehouse, {by_holdout})
    before_hits = {k: hits(run.warehouse, p, base_only=True) for k, p in people.items()}
    before_counts = row_counts(run.warehouse, ERASE_SCHEMAS)
    before_manifest = read_manifest(run.published)
    settings = make_settings(run.root, run.landing)
    report = forget(settings, customer_id=f"  {by_id} ")
    cli = segmint(run.root, "forget", "--email", f"  {email.upper()} ", timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    holdout_report = forget(settings, customer_id=by_holdout)
    return {
        "run": run,
        "people": people,
        "before_hits": before_hits,
        "before_counts": before_counts,
        "before_manifest": before_manifest,
        "report": report,
        "cli": cli,
        "settings": settings,
        "holdout_state": holdout_state,
        "holdout_report": holdout_report,
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
    recorded = {
        "order_id": len(person.orders),
        "anonymous_id": len(person.anon),
        "email": len(person.emails),
    }
    assert report.identifiers_recorded == {k: n for k, n in recorded.items() if n}
    assert not report.already_erased
    assert report.published == erasure["run"].published
    assert "raw" in erasure["cli"].stdout and "marts" in erasure["cli"].stdout
    assert "order id hash(es)" in " ".join(erasure["cli"].stderr.split())


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
    # The holdout member was never sent anywhere: nothing pending, every row purged.
    state = erasure["holdout_state"]
    assert state["audience_holdout"] and state["audience_run_members"], state
    assert all(row[7] for row in state["audience_membership"])  # in_holdout
    assert erasure["holdout_report"].pending_removals == 0
    assert erasure["holdout_report"].activation_purged == sum(len(v) for v in state.values())
    ids = erasure["people"]["holdout"].ids
    assert activation_state(run.warehouse, ids) == dict.fromkeys(ACTIVATION_STATE, [])


def _files_holding(folder: Path, person: Person) -> list[str]:
    """Files under `folder` whose bytes contain one of the person's emails (any case) or
    phone numbers as they were delivered."""
    needles = {e.lower().encode() for e in person.emails} | {p.encode() for p in person.phones}
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(n in data or n in data.lower() for n in needles):
                found.append(str(path.relative_to(folder)))
    return found


def test_no_byte_of_their_contact_data_in_any_file_under_the_warehouse_folder(
    erasure, baseline
) -> None:
    # Working file, published snapshot, Dagster storage, logs, artifacts: every file.
    folder = erasure["run"].root / "warehouse"
    for key, person in erasure["people"].items():
        assert person.emails | person.phones, key
        # The scan does see them where they were: the run's own (unerased) warehouse.
        assert "segmint.duckdb" in _files_holding(baseline.root / "warehouse", person), key
        assert _files_holding(folder, person) == [], key
    report = erasure["report"]
    assert report.compacted_bytes[0] > 0 and report.unscrubbed_files == []


def test_ledger_holds_hashes_and_no_personal_data(erasure) -> None:
    db = erasure["run"].warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe raw.erasure_ledger").fetchall()]
        rows = con.execute("select customer_id_hash, erased_at from raw.erasure_ledger").fetchall()
    assert cols == ["customer_id_hash", "erased_at"]
    people = erasure["people"].values()
    expected = set().union(*(p.keys for p in people))
    assert {r[0] for r in rows} == expected and len(rows) == len(erasure["people"])
    # Keyed: a guessable id cannot be found by hashing candidates with plain sha256.
    plain = {_sha(i) for p in people for i in p.ids}
    assert not plain & {r[0] for r in rows}
    assert all(r[1] is not None for r in rows)
    for person in people:
        text = repr(rows).lower()
        assert not any(v.lower() in text for v in person.ids | person.emails | person.phones)
    # Their order ids, anonymous ids and e-mails: hashes only (Python's keyed hash of the trimmed
    # id = the SQL one forget used), one row per identifier, with the kind of identifier.
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe raw.erasure_identifiers").fetchall()]
        ids = con.execute(
            "select identifier_kind, identifier_hash, erased_at from raw.erasure_identifiers"
        ).fetchall()
    assert cols == ["identifier_kind", "identifier_hash", "erased_at"]
    orders = set().union(*(p.orders for p in people))
    anon = set().union(*(p.anon for p in people))
    emails = set().union(*(p.emails for p in people))
    assert orders and anon
    identifier_hash = load_key(db).identifier_hash
    assert sorted((k, h) for k, h, _ in ids) == sorted(
        [("order_id", identifier_hash(o)) for o in orders]
        + [("anonymous_id", identifier_hash(a)) for a in anon]
        + [("email", identifier_hash(e)) for e in emails]
    )
    assert all(at is not None for _, _, at in ids)
    text = repr(ids).lower()
    for person in people:
        values = person.ids | person.emails | person.phones | person.orders | person.anon
        assert not any(v.lower() in text for v in values)


def test_other_customers_untouched(erasure) -> None:
    after = row_counts(erasure["run"].warehouse, ERASE_SCHEMAS)
    before = erasure["before_counts"]
    theirs: dict[str, int] = {}
    for person_hits in erasure["before_hits"].values():
        for name, n in person_hits.items():
            theirs[name] = theirs.get(name, 0) + n
    expected = {k: v - theirs.get(k, 0) for k, v in before.items() if k not in LEDGERS}
    actual = {k: v for k, v in after.items() if k not in LEDGERS}
    assert actual == expected
    n = len(erasure["people"])
    assert after["marts.customer_360"] == before["marts.customer_360"] - n
    # Published: per-customer tables lose exactly those people, aggregates are unchanged.
    manifest = read_manifest(erasure["run"].published)
    assert manifest["marts.customer_360"] == erasure["before_manifest"]["marts.customer_360"] - n
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
    """Old files delivered again, the holdout member's activation state restored as an
    older backup of the activation tables would bring it back, then a full pipeline run on
    the erased warehouse."""
    run = erasure["run"]
    theirs = redeliver(run.landing, list(erasure["people"].values()))
    with duckdb.connect(str(run.warehouse)) as con:
        for table, rows in erasure["holdout_state"].items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                con.executemany(f"insert into activation.{table} values ({marks})", rows)
    restored = activation_state(run.warehouse, erasure["people"]["holdout"].ids)
    assert restored == erasure["holdout_state"]
    return pipeline(run.root), theirs


def test_redelivered_files_do_not_bring_them_back(erasure, rerun) -> None:
    run = erasure["run"]
    _, theirs = rerun
    tables = ("customers", "orders", "order_items", "events")
    assert all(theirs[t] > 0 for t in tables), theirs
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        files = con.execute(
            "select count(*) from raw.load_ledger where file_path like '%redelivered%' "
            "and status = 'loaded'"
        ).fetchone()[0]
        assert files >= 4
        for table in tables:
            rows = con.execute(
                f"select order_id, _reason from quarantine.{table} "
                "where _reason like '%erased_customer%' and _source_file like '%redelivered%'"
                if table == "order_items"
                else f"select customer_id, _reason from quarantine.{table} "
                "where _reason like '%erased_customer%' and _source_file like '%redelivered%'"
            ).fetchall()
            # Every row of theirs is quarantined with the reason, and its values blanked.
            assert len(rows) == theirs[table], table
            assert all(r[0] is None for r in rows), table
        # The ingest ledger still reconciles: suppressed rows count as quarantined.
        unbalanced = con.execute(
            "select count(*) from raw.load_ledger where file_path like '%redelivered%' "
            "and rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        assert unbalanced == 0
    for key, person in erasure["people"].items():
        # Everything that carries their customer id, key, email or phone stays gone.
        direct = Person(person.ids, person.emails, person.phones, person.keys, set(), set())
        assert hits(run.warehouse, direct) == {}, key
        assert hits(run.published, direct) == {}, key
    assert verify_published(run.published) == {}
    assert read_manifest(run.published)["marts.customer_360"] == (
        erasure["before_manifest"]["marts.customer_360"] - len(erasure["people"])
    )


def test_redelivered_order_items_and_anonymous_events_stay_out(erasure, rerun) -> None:
    run = erasure["run"]
    for person in erasure["people"].values():
        indirect = Person(set(), set(), set(), set(), person.orders, person.anon)
        assert hits(run.warehouse, indirect, base_only=True) == {}
        assert hits(run.published, indirect) == {}


def test_nightly_run_does_not_bring_back_holdout_memberships(erasure, rerun) -> None:
    # Their activation state was restored before the run (older backup): the run's exports
    # check the erasure ledger and purge it, in the warehouse and in the published file.
    run = erasure["run"]
    person = erasure["people"]["holdout"]
    assert activation_state(run.warehouse, person.ids) == dict.fromkeys(ACTIVATION_STATE, [])
    published = activation_state(run.published, person.keys, "customer_key")
    assert published == dict.fromkeys(ACTIVATION_STATE, [])
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        # The rerun's exports did run, and other holdout members kept their group.
        (runs,) = con.execute(
            "select count(*) from activation.audience_runs where status = 'success' "
            "and started_at > (select max(erased_at) from raw.erasure_ledger)"
        ).fetchone()
        (held,) = con.execute(
            "select count(*) from activation.audience_holdout where in_holdout"
        ).fetchone()
    assert runs > 0 and held > 0


# --------------------------------------------------------------------------- runs in progress

HOLD_LOCK = textwrap.dedent(
    """
    import duckdb, os, sys, time
    con = duckdb.connect(sys.argv[1])  # read-write: what a pipeline step holds
    open(sys.argv[3], "w").close()  # ready
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.05)
    con.close()
    """
)

# A Dagster run in the warehouse's instance, tagged like `segmint run` tags its runs, that
# sits between two steps (the DuckDB file is not locked then).
RUN_BETWEEN_STEPS = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import dagster as dg
    from orchestration.runner import PID_TAG, dagster_home
    from segmint.settings import Settings

    home = dagster_home(Settings(warehouse=Path(sys.argv[1])))
    stop, ready = Path(sys.argv[2]), Path(sys.argv[3])

    @dg.op
    def between_steps():
        ready.touch()
        while not stop.exists():
            time.sleep(0.05)

    @dg.job
    def segmint_pipeline():
        between_steps()

    instance = dg.DagsterInstance.from_config(str(home))
    segmint_pipeline.execute_in_process(instance=instance, tags={PID_TAG: str(os.getpid())})
    """
)


def tiny_root(root: Path) -> Path:
    """A warehouse with two customers (c1, c2) and an order each, loaded by ingest."""
    from segmint.ingest import ingest

    landing = root / "landing"
    landing.mkdir(parents=True)
    (landing / "customers.csv").write_text("customer_id,email\nc1,one@example.com\nc2,x@y.z\n")
    (landing / "orders.csv").write_text(
        "order_id,customer_id,ordered_at\no1,c1,2024-01-01T10:00:00\no2,c2,2024-01-02T10:00:00\n"
    )
    report = ingest(landing, root / "warehouse" / "segmint.duckdb")
    assert report.rows_loaded == 4
    return root


def still_there(root: Path) -> tuple[int, int]:
    """(raw rows of c1, ledger rows): nothing erased means (2, 0)."""
    db = root / "warehouse" / "segmint.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        (mine,) = con.execute(
            "select (select count(*) from raw.customers where customer_id = 'c1') "
            "+ (select count(*) from raw.orders where customer_id = 'c1')"
        ).fetchone()
        (ledger,) = con.execute("select count(*) from raw.erasure_ledger").fetchone()
    return int(mine), int(ledger)


def start(script: str, db: Path, stop: Path, timeout: float = 180) -> subprocess.Popen:
    """Start a helper process on `db` and wait until it is ready (it stops at `stop`)."""
    ready = stop.with_name(f"{stop.name}.ready")
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db), str(stop), str(ready)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=60)
            pytest.fail(f"helper process did not get ready (exit {proc.returncode})")
        time.sleep(0.1)
    return proc


def refused(proc: subprocess.CompletedProcess) -> str:
    text = " ".join(proc.stderr.split())
    assert proc.returncode == EXIT_RUN_IN_PROGRESS, (proc.returncode, proc.stdout, proc.stderr)
    assert "in progress" in text and "retry" in text.lower() and "Nothing was erased" in text
    return text


def test_forget_refuses_while_a_run_holds_the_warehouse_lock(tmp_path: Path) -> None:
    root = tiny_root(tmp_path / "root")
    stop = tmp_path / "stop"
    holder = start(HOLD_LOCK, root / "warehouse" / "segmint.duckdb", stop)
    try:
        cli = segmint(root, "forget", "--customer-id", "c1", timeout=300)
    finally:
        stop.touch()
        holder.wait(timeout=60)
    text = refused(cli)
    assert "locked by another process" in text
    assert still_there(root) == (2, 0)
    done = segmint(root, "forget", "--customer-id", "c1", timeout=300)
    assert done.returncode == 0, done.stderr
    assert still_there(root) == (0, 1)


def test_forget_refuses_during_a_live_run_but_not_after_a_dead_one(tmp_path: Path) -> None:
    root = tiny_root(tmp_path / "root")
    run = start(RUN_BETWEEN_STEPS, root / "warehouse" / "segmint.duckdb", tmp_path / "stop")
    try:
        # The file is not locked between steps: only the run record says a run is going on.
        with duckdb.connect(str(root / "warehouse" / "segmint.duckdb")):
            pass
        cli = segmint(root, "forget", "--email", "ONE@example.com", timeout=300)
        text = refused(cli)
        assert "a pipeline run is in progress" in text and f"pid {run.pid}" in text
        assert still_there(root) == (2, 0)
        # A `segmint run` killed mid-run leaves its run record "started": its pid is gone,
        # so it does not block erasures forever.
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
            run.wait(timeout=60)
    done = segmint(root, "forget", "--email", "ONE@example.com", timeout=300)
    assert done.returncode == 0, done.stderr
    assert still_there(root) == (0, 1)
