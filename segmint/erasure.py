"""Right to erasure: remove one person from every layer of the warehouse and republish.

`forget(settings, customer_id=..., email=...)`:

1. resolves the person (by customer_id, or by lower(trim(email)) in raw.customers and
   quarantine.customers), follows the identity graph (marts.identity_map: every customer
   record stitched to the same person, e.g. a duplicate registration or a guest checkout)
   and collects their identifiers: customer ids, emails, order ids and the anonymous ids
   seen only with them (pre-login browsing of their devices);
2. in one transaction on the working warehouse:
   - deletes their rows from every base table of raw, quarantine, staging, intermediate,
     marts (incl. the snapshot) and ml, matching by column: customer_id, customer_key, email,
     order_id, anonymous_id, session_key (any session they had an event in); quarantine
     rows are also matched on their text (a malformed row may carry the email in any column);
   - records the erasure without personal data: raw.erasure_ledger gets the keyed hash
     (segmint.privacy) of each customer_id (one row per erased customer, the table dbt's
     customer_targeting and the activation exports read), raw.erasure_identifiers gets the
     keyed hash of each of their order ids (identifier_kind 'order_id'), anonymous ids
     (identifier_kind 'anonymous_id') and e-mails (identifier_kind 'email', lower(trim)).
     Ingest drops rows carrying any of them if an old file is loaded again (quarantined
     with reason erased_customer and values blanked): orders and customers by customer_id,
     customers also by e-mail (a new record of an erased person), order_items by order_id,
     anonymous events by anonymous_id. Every hash is
     `HashKey.identifier_hash` of the trimmed id (`privacy.keyed_sql` in SQL).
     A companion table rather than more rows in erasure_ledger: that table's contract is
     one row per erased customer and customer_targeting joins keyed_hash(customer_id) to it,
     so an order or device id spelled like some customer_id would flag the wrong person;
   - purges activation history (segmint.activation.purge_erased): per-run members, holdout
     assignments, removed and holdout memberships (never sent, nothing to withdraw).
     Current exported memberships stay in activation.audience_membership (customer_id,
     customer_key and, in erasure_hashes, the hashes the removal needs: SHA-256 of the
     normalised email / phone for the ad platforms, MD5 of the email for Mailchimp, never
     the contact data) until the next export has sent their removal to the destination,
     which then deletes them. Every export also purges leftovers of ledgered customers and
     checks the ledger itself, so a later run cannot bring them back;
3. republishes the analyst snapshot (segmint.warehouse.publish) from the cleaned
   warehouse, leaving out those pending membership rows;
4. leaves no byte of their email or phone on disk under the warehouse folder: the working
   DuckDB file is rewritten into a fresh file and swapped in atomically
   (segmint.warehouse.compact: deleted rows stay readable in freed blocks otherwise), and
   every other file there that holds one of their emails or phone numbers (Dagster
   storage, logs, dbt and GX artifacts) is rewritten without it (segmint.warehouse.scrub).

It refuses (RunInProgressError, `segmint forget` exits 75) while a pipeline run holds the
warehouse: when the DuckDB file is locked by another process, when another segmint process
holds the warehouse's exclusive-use lock, or when `live_runs` (given by the caller: the CLI
passes orchestration.runner.running_pipeline_runs, which reads the warehouse's Dagster
instance) names a run executing. Steps of a run open the file one at a time, so the file
lock alone would let an erasure slip in between two steps and a later step write the
person back.

Aggregates without customer columns (daily_demand, cohort_retention, segment profiles)
are not personal data; the next run rebuilds them without the person. Export files
already delivered belong to their destination and are not touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segmint import privacy
from segmint.activation import identity as ident
from segmint.activation.pending import keep_removal_hashes
from segmint.activation.state import purge_erased
from segmint.catalog import has_table, list_tables, table_columns
from segmint.errors import SegmintError
from segmint.fs import write_json_atomic
from segmint.privacy import ERASURE_IDENTIFIERS, ERASURE_LEDGER, keyed_sql
from segmint.settings import Settings
from segmint.warehouse import WarehouseBusy, exclusive_use, publish
from segmint.warehouse.compact import compact
from segmint.warehouse.scrub import scrub_folder

log = logging.getLogger(__name__)

# Layers cleaned in the transaction (activation has its own purge, see purge_erased).
ERASE_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml")
# Bookkeeping tables: no personal data, never deleted from.
KEEP_TABLES = frozenset({("raw", "load_ledger"), *privacy.LEDGER_TABLES})
EXIT_RUN_IN_PROGRESS = 75  # EX_TEMPFAIL: try again later
SESSIONIZED = ("intermediate", "int_events_sessionized")  # every event with its session (view)

# What tells whether a pipeline run of the warehouse is executing: descriptions of the live
# runs, [] when none (the CLI passes orchestration.runner.running_pipeline_runs).
LiveRuns = Callable[[], list[str]]


class RunInProgressError(SegmintError):
    """The warehouse is in use by a pipeline run (or another writer): retry later."""


@dataclass
class ErasureReport:
    """What one erasure removed: rows per table (no personal data in here)."""

    customer_id_hashes: list[str]
    deleted: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    # identifier_kind -> hashes newly recorded in raw.erasure_identifiers
    identifiers_recorded: dict[str, int] = field(default_factory=dict)
    activation_purged: int = 0
    pending_removals: int = 0  # memberships kept until their removal is exported
    compacted_bytes: tuple[int, int] = (0, 0)  # working file size before / after rewrite
    scrubbed_files: int = 0  # other files under the warehouse folder rewritten
    unscrubbed_files: list[Path] = field(default_factory=list)  # could not be edited
    already_erased: bool = False
    published: Path | None = None

    def per_layer(self) -> dict[str, int]:
        """Rows deleted per schema (activation included)."""
        layers = {s: 0 for s in ERASE_SCHEMAS}
        for name, n in self.deleted.items():
            schema = name.split(".", 1)[0]
            layers[schema] = layers.get(schema, 0) + n
        layers["activation"] = self.activation_purged
        return layers

    @property
    def total(self) -> int:
        """All rows deleted."""
        return sum(self.per_layer().values())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(column: str) -> str:
    return f"trim(cast({_q(column)} as varchar))"


def _collect(con: duckdb.DuckDBPyConnection, customer_id: str | None, email: str | None) -> None:
    """Fill temp tables _erase_ids / _erase_emails / _erase_orders / _erase_anon."""
    con.execute("create or replace temp table _erase_ids (erase_id varchar)")
    con.execute("create or replace temp table _erase_emails (erase_email varchar)")
    has_raw = has_table(con, "raw", "customers")
    has_q = has_table(con, "quarantine", "customers")
    if customer_id is not None:
        con.execute("insert into _erase_ids values (trim(?))", [customer_id])
    if email is not None:
        con.execute("insert into _erase_emails values (lower(trim(?)))", [email])
        for schema, ok in (("raw", has_raw), ("quarantine", has_q)):
            if ok:
                con.execute(
                    f"""
                    insert into _erase_ids
                    select distinct trim(customer_id) from {schema}.customers
                    where lower(trim(email)) in (select erase_email from _erase_emails)
                      and nullif(trim(customer_id), '') is not null
                    """
                )
    _follow_identity_graph(con)
    # Every email the person used (an address change leaves old ones in older rows).
    for schema, ok in (("raw", has_raw), ("quarantine", has_q)):
        if ok:
            con.execute(
                f"""
                insert into _erase_emails
                select distinct lower(trim(email)) from {schema}.customers
                where trim(customer_id) in (select erase_id from _erase_ids)
                  and nullif(trim(email), '') is not null
                """
            )
    con.execute(
        "create or replace temp table _erase_ids as select distinct erase_id from _erase_ids"
    )
    con.execute(
        "create or replace temp table _erase_emails as select distinct erase_email "
        "from _erase_emails where erase_email is not null"
    )
    con.execute("create or replace temp table _erase_orders (erase_order varchar)")
    for schema in ("raw", "quarantine"):
        if has_table(con, schema, "orders"):
            con.execute(
                f"""
                insert into _erase_orders
                select distinct trim(order_id) from {schema}.orders
                where trim(customer_id) in (select erase_id from _erase_ids)
                  and nullif(trim(order_id), '') is not null
                """
            )
    # Anonymous ids seen with this person and with nobody else: their own devices.
    con.execute("create or replace temp table _erase_anon (erase_anon varchar)")
    if has_table(con, "raw", "events"):
        con.execute(
            """
            insert into _erase_anon
            select anonymous_id from raw.events
            where nullif(trim(anonymous_id), '') is not null and customer_id is not null
            group by anonymous_id
            having bool_and(customer_id in (select erase_id from _erase_ids))
            """
        )
    _collect_sessions(con)


def _collect_sessions(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table _erase_sessions: the sessions the person has an event in, deleted whole
    from tables keyed by session (fct_sessions rebuilds the rest of a shared one)."""
    con.execute("create or replace temp table _erase_sessions (erase_session varchar)")
    conditions = _conditions("intermediate", table_columns(con, *SESSIONIZED))
    if conditions:
        where = " or ".join(f"coalesce({c}, false)" for c in conditions)
        con.execute(
            "insert into _erase_sessions select distinct session_key from "
            f"{'.'.join(SESSIONIZED)} where session_key is not null and ({where})"
        )


def _follow_identity_graph(con: duckdb.DuckDBPyConnection) -> None:
    """Add every customer record stitched to the same person (marts.identity_map): their
    duplicate records and guest checkouts; their devices follow (seen only with them)."""
    if not has_table(con, "marts", "identity_map"):
        return
    con.execute(
        """
        insert into _erase_ids
        select distinct trim(m.customer_id) from marts.identity_map m
        where m.identifier_type = 'customer_id' and m.customer_id is not null
          and m.person_id in (
            select person_id from marts.identity_map
            where identifier_type = 'customer_id'
              and trim(customer_id) in (select erase_id from _erase_ids))
        """
    )


def _conditions(schema: str, columns: dict[str, str]) -> list[str]:
    """SQL conditions that identify the person's rows in a table with these columns."""
    names = {c.lower(): c for c in columns}
    out: list[str] = []
    if "customer_id" in names:
        out.append(f"{_text(names['customer_id'])} in (select erase_id from _erase_ids)")
    if "customer_key" in names:
        keys = f"select {keyed_sql('erase_id')} from _erase_ids"
        out.append(f"{_text(names['customer_key'])} in ({keys})")
    if "email" in names:
        out.append(f"lower({_text(names['email'])}) in (select erase_email from _erase_emails)")
    if "order_id" in names:
        out.append(f"{_text(names['order_id'])} in (select erase_order from _erase_orders)")
    if "session_key" in names:
        out.append(f"{_text(names['session_key'])} in (select erase_session from _erase_sessions)")
    if "anonymous_id" in names:
        anon = f"{_text(names['anonymous_id'])} in (select erase_anon from _erase_anon)"
        if "customer_id" in names:
            anon = f"({anon} and {_q(names['customer_id'])} is null)"
        out.append(anon)
    if schema == "quarantine":
        if "_raw_line" in columns:
            # The record's raw text: any of its fields may be the person's id or e-mail.
            out.append(
                "list_has_any(regexp_split_to_array(_raw_line, '[\\s,;\"''{}\\[\\]:]+'), "
                "(select list(erase_id) from _erase_ids))"
            )
            out.append(
                "exists (select 1 from _erase_emails e "
                "where contains(lower(_raw_line), e.erase_email))"
            )
        # Malformed rows may carry the person's values under any column.
        for col, type_ in columns.items():
            if col.startswith("_") or type_.upper() != "VARCHAR":
                continue
            out.append(f"{_text(col)} in (select erase_id from _erase_ids)")
            out.append(
                "exists (select 1 from _erase_emails e "
                f"where contains(lower({_q(col)}), e.erase_email))"
            )
    return out


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SegmintError(f"no warehouse at {path}: nothing to erase")
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunInProgressError(
            f"the warehouse {path} is locked by another process, most likely a pipeline run "
            f"in progress ({first}). Nothing was erased; retry when the run has finished."
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def _refuse_during_run(settings: Settings, live_runs: LiveRuns) -> None:
    """Raise RunInProgressError when a pipeline run of this warehouse is executing."""
    runs = live_runs()
    if runs:
        raise RunInProgressError(
            f"a pipeline run is in progress on {settings.warehouse} ({', '.join(runs)}); "
            "erasing now could let a later step of the run write the person back. Nothing "
            "was erased; retry when the run has finished."
        )


def _republish(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> Path:
    """Publish from the cleaned warehouse through the connection `forget` holds (publish
    leaves out ledgered customers' pending membership rows)."""
    published = settings.published_path
    counts = publish(settings.warehouse, published, run_id=run_id, con=con)
    write_json_atomic(published.with_suffix(".manifest.json"), {"run_id": run_id, "tables": counts})
    return published


def forget(
    settings: Settings,
    customer_id: str | None = None,
    email: str | None = None,
    *,
    live_runs: LiveRuns,
) -> ErasureReport:
    """Erase one person (by customer_id or email) from the warehouse and the published file.

    `live_runs` lists the pipeline runs of this warehouse that are executing (asked before
    and again while holding the warehouse): any run refuses the erasure.
    """
    if (customer_id is None) == (email is None):
        raise SegmintError("give exactly one of --customer-id or --email")
    if customer_id is not None and not customer_id.strip():
        raise SegmintError("--customer-id is empty")
    if email is not None and not email.strip():
        raise SegmintError("--email is empty")

    # Checked before taking the lock (probing must not block a live run's next step) and
    # again while holding it (a run that started in between).
    _refuse_during_run(settings, live_runs)
    if not settings.warehouse.exists():
        raise SegmintError(f"no warehouse at {settings.warehouse}: nothing to erase")
    try:
        with exclusive_use(settings.warehouse, "segmint forget"):
            return _forget_locked(settings, customer_id, email, live_runs)
    except WarehouseBusy as exc:
        raise RunInProgressError(
            f"{exc}: a pipeline run or another erasure is in progress. Nothing was erased; "
            "retry when it has finished."
        ) from None


def _forget_locked(
    settings: Settings, customer_id: str | None, email: str | None, live_runs: LiveRuns
) -> ErasureReport:
    con = _connect(settings.warehouse)
    try:
        _refuse_during_run(settings, live_runs)
        privacy.prepare(con)
        now = datetime.now(UTC).replace(tzinfo=None)
        con.begin()
        contact: set[str] = set()
        try:
            report = _erase(con, customer_id, email, now, contact)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            for name in ("ids", "emails", "orders", "anon", "sessions"):
                con.execute(f"drop table if exists temp._erase_{name}")
        if settings.published_path.exists():
            report.published = _republish(con, settings, f"erasure-{now:%Y%m%dT%H%M%S}Z")
    finally:
        con.close()
    # Deleted rows leave their bytes in freed blocks: rewrite the working file, then
    # scrub what else under the warehouse folder held the person's contact data.
    report.compacted_bytes = compact(settings.warehouse)
    scrubbed = scrub_folder(settings.warehouse.parent, contact)
    report.scrubbed_files = len(scrubbed.rewritten)
    report.unscrubbed_files = scrubbed.left
    for path in scrubbed.left:
        log.warning("erasure: %s still holds an erased value and cannot be edited", path)
    return report


def _erase(
    con: duckdb.DuckDBPyConnection,
    customer_id: str | None,
    email: str | None,
    now: datetime,
    contact: set[str],
) -> ErasureReport:
    """Delete, record and purge inside the caller's transaction; returns what it did.
    `contact` receives the person's emails and phone numbers (to scrub other files)."""
    privacy.ensure_ledgers(con, erased_at=True)
    _collect(con, customer_id, email)
    contact.update(_contact_values(con))
    rows = con.execute(f"select {keyed_sql('erase_id')} from _erase_ids order by 1").fetchall()
    hashes = [str(r[0]) for r in rows]
    report = ErasureReport(customer_id_hashes=hashes)
    known = {
        str(r[0])
        for r in con.execute(
            f"select lower(customer_id_hash) from {ERASURE_LEDGER} "
            "where customer_id_hash is not null"
        ).fetchall()
    }
    report.already_erased = bool(hashes) and set(hashes) <= known
    keep_removal_hashes(con, "_erase_ids")
    report.deleted = _delete_rows(con)
    if not hashes and not report.deleted:
        raise SegmintError(
            "no customer and no row found with that email: nothing was erased and no "
            "suppression was recorded (give --customer-id to record one)"
        )
    report.identifiers_recorded = _record(con, now)
    report.activation_purged = purge_erased(con, transaction=False)
    if has_table(con, "activation", "audience_membership"):
        (pending,) = con.execute(
            """
            select count(*) from activation.audience_membership
            where customer_id in (select erase_id from _erase_ids)
            """
        ).fetchone()
        report.pending_removals = int(pending)
    return report


def _contact_values(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The person's emails and phone numbers as stored and in E.164 (file scrubbing)."""
    values = {str(r[0]) for r in con.execute("select erase_email from _erase_emails").fetchall()}
    for schema in ("raw", "quarantine"):
        if not {"customer_id", "phone"} <= set(table_columns(con, schema, "customers")):
            continue
        country = "country" if "country" in table_columns(con, schema, "customers") else "null"
        rows = con.execute(
            f"""
            select distinct trim(phone), {country} from {schema}.customers
            where trim(customer_id) in (select erase_id from _erase_ids)
              and nullif(trim(phone), '') is not null
            """
        ).fetchall()
        for phone, where in rows:
            values.add(str(phone))
            e164 = ident.normalize_phone_e164(str(phone), where)
            if e164:
                values.update({e164, e164[1:]})
    return values


def _delete_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Delete the person's rows from every base table of ERASE_SCHEMAS; rows per table."""
    deleted: dict[str, int] = {}
    for schema, table in list_tables(con, ERASE_SCHEMAS, base_only=True):
        if (schema, table) in KEEP_TABLES:
            continue
        conditions = _conditions(schema, table_columns(con, schema, table))
        if not conditions:
            continue
        row = con.execute(
            f"delete from {_q(schema)}.{_q(table)} where "
            + " or ".join(f"coalesce({c}, false)" for c in conditions)
        ).fetchone()
        n = int(row[0]) if row else 0
        if n:
            deleted[f"{schema}.{table}"] = n
    return deleted


def _record(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Add the person's hashes to the ledgers; new identifier hashes per kind."""
    con.execute(
        f"""
        insert into {ERASURE_LEDGER} (customer_id_hash, erased_at)
        select h, ? from (select {keyed_sql("erase_id")} as h from _erase_ids)
        where h not in (
            select lower(customer_id_hash) from {ERASURE_LEDGER}
            where customer_id_hash is not null)
        """,
        [now],
    )
    # Their order ids and device ids, hashed the same way, so ingest can drop re-delivered
    # order_items and anonymous events, which carry no customer_id.
    new_ids = con.execute(
        f"""
        insert into {ERASURE_IDENTIFIERS} (identifier_kind, identifier_hash, erased_at)
        select distinct x.kind, x.h, ?::timestamp from (
            select 'order_id' as kind, {keyed_sql("erase_order")} as h from _erase_orders
            where nullif(trim(erase_order), '') is not null
            union all
            select 'anonymous_id', {keyed_sql("erase_anon")} from _erase_anon
            where nullif(trim(erase_anon), '') is not null
            union all
            select 'email', {keyed_sql("erase_email")} from _erase_emails
            where nullif(trim(erase_email), '') is not null
        ) x
        where not exists (
            select 1 from {ERASURE_IDENTIFIERS} i
            where i.identifier_kind = x.kind and lower(i.identifier_hash) = x.h)
        returning identifier_kind
        """,
        [now],
    ).fetchall()
    recorded: dict[str, int] = {}
    for (kind,) in new_ids:
        recorded[kind] = recorded.get(kind, 0) + 1
    return recorded
