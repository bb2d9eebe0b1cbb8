"""Pending removals of erased customers: what `segmint forget` keeps so the next export can
send an erased member's removal to the destination after the contact data is gone.

Each exported membership of the person (activation.audience_membership, status active, not
in the holdout) gets `erasure_hashes`: the JSON of identity.erasure_hashes, i.e. the
SHA-256 forms of the normalised email and phone Google and Meta already hold and the MD5
subscriber hash Mailchimp names the member by. CRMs keyed by the pseudonymous customer_key
(Salesforce, HubSpot, plain files) need nothing more. The export deletes the membership
once the removal is written (state.commit_state).
"""

from __future__ import annotations

import json

import duckdb

from segmint.activation import identity as ident
from segmint.activation.state import ensure_activation_schema
from segmint.catalog import has_table, table_columns


def _contacts(con: duckdb.DuckDBPyConnection, ids: str) -> dict[str, tuple[str | None, ...]]:
    """(email, phone, country) per erased customer_id, as the last exports read them
    (customer_targeting), else from their latest raw.customers row."""
    out: dict[str, tuple[str | None, ...]] = {}
    for schema, table in (("marts", "customer_targeting"), ("raw", "customers")):
        columns = table_columns(con, schema, table)
        if not {"customer_id", "email", "phone", "country"} <= set(columns):
            continue
        order = "updated_at desc nulls last" if "updated_at" in columns else "customer_id"
        rows = con.execute(
            f"""
            select trim(customer_id), email, phone, country from {schema}.{table}
            where trim(customer_id) in (select erase_id from {ids})
              and (email is not null or phone is not null)
            qualify row_number() over (partition by trim(customer_id) order by {order}) = 1
            """
        ).fetchall()
        for cid, *contact in rows:
            out.setdefault(str(cid), tuple(contact))
    return out


def keep_removal_hashes(con: duckdb.DuckDBPyConnection, ids: str) -> int:
    """Before the contact data goes: keep on each of the person's exported memberships the
    hashes its removal needs at the destination (identity.erasure_hashes: the SHA-256 /
    MD5 forms the ad platforms and Mailchimp already hold, never the email or phone), so
    the next export can send the removal. `ids` is a temp table of the person's customer
    ids (column erase_id). Returns memberships updated."""
    if not has_table(con, "activation", "audience_membership"):
        return 0
    ensure_activation_schema(con)
    contacts = _contacts(con, ids)
    updated = 0
    for cid, (email, phone, country) in contacts.items():
        kept = json.dumps(ident.erasure_hashes(email, phone, country), sort_keys=True)
        (n,) = con.execute(
            """
            update activation.audience_membership set erasure_hashes = ?
            where customer_id = ? and status = 'active' and not in_holdout
            """,
            [kept, cid],
        ).fetchone()
        updated += int(n)
    return updated
