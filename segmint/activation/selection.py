"""Who an export run selects: matched, eligible members, the holdout, adds and removes.

A run's selection lives in temp tables (_segmint_matched, _members, _prev, _removed,
_export). Consent and erasure go through privacy.ELIGIBLE / ERASED: erased means flagged
by the mart (is_erased) or listed in raw.erasure_ledger itself, so a stale or rebuilt
targeting table can never put an erased customer back into a membership or holdout. The
holdout (control) group is a deterministic hash of customer id + audience + salt below the
share, recorded on first sight so nobody ever switches group.
preview_audience shows the same counts and a masked sample without changing anything.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import pyarrow as pa

from segmint import privacy
from segmint.activation.audience import Audience, check_audience
from segmint.activation.conditions import compile_condition, quote_ident
from segmint.activation.formats.base import ERASURE_COLUMN
from segmint.activation.state import SCHEMA
from segmint.activation.targeting import (
    TARGETING,
    TARGETING_SCHEMA,
    AudienceError,
    require_columns,
    targeting_columns,
)
from segmint.catalog import has_table, table_columns
from segmint.privacy import ELIGIBLE, ERASED, PII_COLUMNS, keyed_sql, load_erased_hashes

Mode = Literal["full", "delta"]

REQUIRED_COLUMNS = ("customer_id", "customer_key", "marketing_consent", "is_erased")
_HEX15 = float(16**15)


def _bucket_sql(customer_id: str) -> str:
    """SQL of holdout_bucket (parameters: audience, salt)."""
    return (
        f"cast(cast('0x' || left(sha256({customer_id} || '|' || ? || '|' || ?), 15) as bigint) "
        f"as double) / {_HEX15}"
    )


def checked_schema(con: duckdb.DuckDBPyConnection, audience: Audience) -> dict[str, str]:
    """The targeting columns, once the audience's conditions and columns fit them."""
    schema = targeting_columns(con)
    problems = check_audience(audience, schema)
    if problems:
        raise AudienceError(problems)
    require_columns(schema, list(REQUIRED_COLUMNS), "every export")
    return schema


def holdout_bucket(customer_id: str, audience: str, salt: str) -> float:
    """Position in [0, 1) of a customer for an audience; in the holdout when below the share."""
    digest = hashlib.sha256(f"{customer_id}|{audience}|{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / _HEX15


@dataclass
class AudiencePreview:
    """Counts of an audience as it stands now, and a few rows with personal data masked."""

    audience: str
    matched: int
    members: int
    holdout: int
    would_export: int
    excluded_no_consent: int
    excluded_erased: int
    sample: list[dict[str, Any]]


def _model_relation(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    schema, _, table = relation.rpartition(".")
    schema = schema or TARGETING_SCHEMA
    if "customer_id" not in table_columns(con, schema, table):
        raise AudienceError(
            [f"dbt audience relation {relation} does not exist or has no customer_id"]
        )
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _where(
    con: duckdb.DuckDBPyConnection, audience: Audience, schema: dict[str, str]
) -> tuple[str, list[Any]]:
    if audience.conditions is not None:
        return compile_condition(audience.conditions, schema)
    assert audience.model is not None
    relation = _model_relation(con, audience.model)
    return f"t.customer_id in (select customer_id from {relation})", []


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """Result of a query as an arrow table (customer-level sizes: the copy is cheap)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return con.execute(query).to_arrow_table()


class Selection:
    """Temp tables of one run: matched, members (+holdout), previous, export set, removed."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        audience: Audience,
        destination: str,
        mode: Mode,
        salt: str,
        schema: dict[str, str],
    ) -> None:
        self.con = con
        self.audience = audience
        self.destination = destination
        load_erased_hashes(con)
        self._match(schema)
        self._hold_out(salt)
        self._diff(mode)

    def _match(self, schema: dict[str, str]) -> None:
        """_segmint_matched: customers matching the audience, eligible or not, erased or not."""
        where, params = _where(self.con, self.audience, schema)
        self.con.execute(
            f"""
            create or replace temp table _segmint_matched as
            select t.customer_id, t.customer_key,
                   {ELIGIBLE} as eligible,
                   {ERASED} as erased
            from {TARGETING} t
            where t.customer_id is not null and {where}
            """,
            params,
        )

    def _hold_out(self, salt: str) -> None:
        """_segmint_members: eligible matches, in the holdout as first recorded (or by hash)."""
        audience = self.audience
        self.con.execute(
            f"""
            create or replace temp table _segmint_members as
            with bucketed as (
                select customer_id, customer_key, {_bucket_sql("customer_id")} as bucket
                from _segmint_matched
                where eligible
            )
            select b.customer_id, b.customer_key, b.bucket,
                   coalesce(h.in_holdout, b.bucket < ?) as in_holdout,
                   h.customer_id is null as new_assignment
            from bucketed b
            left join {SCHEMA}.audience_holdout h
                on h.audience = ? and h.customer_id = b.customer_id
            """,
            [audience.name, salt, audience.holdout_share, audience.name],
        )

    def _diff(self, mode: Mode) -> None:
        """_segmint_prev / _removed / _export: the last export's members, who left, who to send."""
        con = self.con
        con.execute(
            f"""
            create or replace temp table _segmint_prev as
            select customer_id, customer_key
            from {SCHEMA}.audience_membership
            where audience = ? and destination = ? and status = 'active' and not in_holdout
            """,
            [self.audience.name, self.destination],
        )
        con.execute(
            f"""
            create or replace temp table _segmint_removed as
            select p.customer_id, p.customer_key,
                   t.customer_id is null or coalesce(t.is_erased, false)
                   or {keyed_sql("p.customer_id")} in (select h from _segmint_erased) as erased
            from _segmint_prev p
            left join _segmint_members m
                on m.customer_id = p.customer_id and not m.in_holdout
            left join {TARGETING} t on t.customer_id = p.customer_id
            where m.customer_id is null
            """
        )
        only_new = "and p.customer_id is null" if mode == "delta" else ""
        con.execute(
            f"""
            create or replace temp table _segmint_export as
            select m.customer_id
            from _segmint_members m
            left join _segmint_prev p on p.customer_id = m.customer_id
            where not m.in_holdout {only_new}
            """
        )

    def counts(self) -> dict[str, int]:
        """matched / members / holdout / excluded / added / removed counters."""
        row = self.con.execute(
            """
            select
                (select count(*) from _segmint_matched),
                (select count(*) from _segmint_members),
                (select count(*) from _segmint_members where in_holdout),
                (select count(*) from _segmint_matched where not eligible and not erased),
                (select count(*) from _segmint_matched where erased),
                (select count(*) from _segmint_members m
                    where not m.in_holdout
                    and m.customer_id not in (select customer_id from _segmint_prev)),
                (select count(*) from _segmint_removed),
                (select count(*) from _segmint_removed where erased)
            """
        ).fetchone()
        assert row is not None
        keys = (
            "matched",
            "members",
            "holdout",
            "excluded_no_consent",
            "excluded_erased",
            "added",
            "removed",
            "removed_erased",
        )
        return dict(zip(keys, (int(v) for v in row), strict=True))

    def _targeting_rows(self, columns: list[str], join: str, where: str) -> pa.Table:
        """`columns` of the targeting rows of the customers in temp table `join` (alias s)."""
        cols = ", ".join(f"t.{quote_ident(c)}" for c in columns)
        return _arrow(
            self.con,
            f"""
            select {cols}
            from {TARGETING} t
            join {join} s on s.customer_id = t.customer_id
            where {where}
            order by t.customer_key, t.customer_id
            """,
        )

    def export_rows(self, columns: list[str]) -> pa.Table:
        """Rows to send (full: every exported member; delta: adds), eligible only."""
        return self._targeting_rows(columns, "_segmint_export", ELIGIBLE)

    def removal_rows(self, columns: list[str]) -> pa.Table:
        """Identifiers of removed customers that are not erased (_erased false)."""
        cols = ", ".join(f"t.{quote_ident(c)}" for c in columns)
        return _arrow(
            self.con,
            f"""
            select {cols}, false as _erased, cast(null as varchar) as {ERASURE_COLUMN}
            from {TARGETING} t
            join _segmint_removed s on s.customer_id = t.customer_id
            where not s.erased and not {ERASED}
            order by t.customer_key, t.customer_id
            """,
        )

    def erasure_rows(self, columns: list[str], schema: dict[str, str]) -> pa.Table:
        """Removed customers who were erased: customer_key / customer_id only (the contact
        columns are null), _erased true and the hashes `segmint forget` kept for the
        destinations (activation.audience_membership.erasure_hashes; null when none)."""
        cells = []
        for c in columns:
            if c in ("customer_key", "customer_id"):
                cells.append(f"s.{c}")
            else:
                cells.append(f"cast(null as {schema.get(c, 'varchar')}) as {quote_ident(c)}")
        return self._erasure_rows(cells)

    def _erasure_rows(self, cells: list[str]) -> pa.Table:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            return self.con.execute(
                f"""
                select {", ".join(cells)}, true as _erased,
                       m.erasure_hashes as {ERASURE_COLUMN}
                from _segmint_removed s
                left join {SCHEMA}.audience_membership m
                  on m.audience = ? and m.destination = ? and m.customer_id = s.customer_id
                where s.erased
                order by s.customer_key, s.customer_id
                """,
                [self.audience.name, self.destination],
            ).to_arrow_table()

    def removed_keys(self, key: str, erased: bool) -> list[str]:
        """customer_key / customer_id of removed customers (erased or not)."""
        column = "customer_key" if key == "customer_key" else "customer_id"
        rows = self.con.execute(
            f"select {column} from _segmint_removed where erased = ? and {column} is not null "
            f"order by 1",
            [erased],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def drop(self) -> None:
        """Drop the temp tables."""
        for name in ("matched", "members", "prev", "removed", "export", "erased"):
            self.con.execute(f"drop table if exists _segmint_{name}")


def preview_audience(
    con: duckdb.DuckDBPyConnection, audience: Audience, salt: str = "segmint", limit: int = 10
) -> AudiencePreview:
    """Counts and a masked sample of who would be exported now; changes no state."""
    privacy.prepare(con)
    schema = checked_schema(con, audience)
    where, params = _where(con, audience, schema)
    has_holdout = has_table(con, SCHEMA, "audience_holdout")
    recorded = (
        f"(select in_holdout from {SCHEMA}.audience_holdout h "
        "where h.audience = ? and h.customer_id = t.customer_id)"
        if has_holdout
        else "cast(null as boolean)"
    )
    hold_params = [audience.name] if has_holdout else []
    bucket = _bucket_sql("t.customer_id")
    shown = ["customer_key", *[c for c in audience.columns if c != "customer_key"]]
    cols = ", ".join(f"t.{quote_ident(c)}" for c in shown)
    base = f"""
        with matched as (
            select t.*, {ELIGIBLE} as _eligible, {ERASED} as _erased,
                   coalesce({recorded}, {bucket} < ?) as _holdout
            from {TARGETING} t
            where t.customer_id is not null and {where}
        )
    """
    base_params = [*hold_params, audience.name, salt, audience.holdout_share, *params]
    load_erased_hashes(con)
    try:
        return _preview(con, audience, base, base_params, cols, limit)
    finally:
        con.execute("drop table if exists _segmint_erased")


def _preview(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    base: str,
    base_params: list[Any],
    cols: str,
    limit: int,
) -> AudiencePreview:
    row = con.execute(
        base
        + """
        select count(*),
               count(*) filter (where _eligible),
               count(*) filter (where _eligible and _holdout),
               count(*) filter (where not _eligible and not _erased),
               count(*) filter (where _erased)
        from matched
        """,
        base_params,
    ).fetchone()
    assert row is not None
    sample_cursor = con.execute(
        base
        + f"""
        select {cols} from matched t
        where _eligible and not _holdout
        order by t.customer_key limit {int(limit)}
        """,
        base_params,
    )
    names = [d[0] for d in sample_cursor.description]
    sample = [
        {
            k: ("***" if k in PII_COLUMNS and v is not None else v)
            for k, v in zip(names, r, strict=True)
        }
        for r in sample_cursor.fetchall()
    ]
    matched, members, holdout, no_consent, erased = (int(v) for v in row)
    return AudiencePreview(
        audience=audience.name,
        matched=matched,
        members=members,
        holdout=holdout,
        would_export=members - holdout,
        excluded_no_consent=no_consent,
        excluded_erased=erased,
        sample=sample,
    )
