"""HubSpot contacts import CSV, removals CSV and GDPR-delete requests."""

from __future__ import annotations

import json
from collections import Counter
from typing import IO, Any

import pyarrow as pa

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination, member_field
from segmint.activation.formats.base import (
    CONTACT_COLUMNS,
    CsvVendorFormat,
    WriteStats,
    extra_columns,
    iter_rows,
    text_value,
)

KEY_PROPERTY = "segmint_customer_key"


class HubSpotFormat(CsvVendorFormat):
    """HubSpot contacts import: header row of property labels / internal names.

    https://knowledge.hubspot.com/import-and-export/set-up-your-import-file
    (contacts need First name, Last name or Email; Email is the unique identifier) and
    https://knowledge.hubspot.com/crm-setup/deduplication-of-records ("to deduplicate via
    import, include Record IDs or custom properties that require unique values"):
    segmint_customer_key is such a unique-value property holding the pseudonymous
    customer_key. Each audience has its own boolean property (`member_field`, default
    segmint_<audience>): adds import it as true, removals as false, and the HubSpot list is
    an active list on that property, so a removal from one audience never touches another.
    Erased customers get a GDPR delete request instead, one JSON body per line for
    POST /crm/v3/objects/contacts/gdpr-delete with idProperty segmint_customer_key
    (https://developers.hubspot.com/docs/api/crm/contacts), so no email is kept for it.
    Extra audience columns are sent under their own names (map them to custom properties).
    """

    name = "hubspot"
    spec = "https://knowledge.hubspot.com/import-and-export/set-up-your-import-file"
    supports_replace = False
    erasure_suffix = ".jsonl"
    removals = (
        "Import the removals CSV (deduplicated on segmint_customer_key, a unique-value "
        "property): it sets this audience's membership property to false, which takes the "
        "contact out of the active list built on it; full exports send it too. Erased "
        "customers are in the erasures file: one body per line for "
        "POST /crm/v3/objects/contacts/gdpr-delete (permanent delete)."
    )
    base = (
        "Email",
        "First Name",
        "Last Name",
        "Phone Number",
        "City",
        "Country/Region",
        "Postal Code",
        KEY_PROPERTY,
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + extra audience columns."""
        return ["customer_key", *CONTACT_COLUMNS, *extra_columns(audience, CONTACT_COLUMNS)]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """The key and the email."""
        return ["customer_key", "email"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """HubSpot property labels, the membership property, then extra columns."""
        return [*self.base, member_field(audience, dest), *extra_columns(audience, CONTACT_COLUMNS)]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Email required (trimmed, lower case, valid syntax); phone in E.164."""
        email = ident.normalize_email_basic(row.get("email"), drops)
        if email is None:
            return None
        country = ident.country_iso2(row.get("country"))
        values = [
            email,
            text_value(row.get("first_name")),
            text_value(row.get("last_name")),
            ident.normalize_phone_e164(row.get("phone"), country, drops) or "",
            text_value(row.get("city")),
            country or "",
            text_value(row.get("postal_code")),
            text_value(row.get("customer_key")),
            "true",
        ]
        return values + [text_value(row.get(c)) for c in extra_columns(audience, CONTACT_COLUMNS)]

    def removal_header(self, audience: Audience, dest: Destination) -> list[str]:
        """Email, the key property and the membership property."""
        return ["Email", KEY_PROPERTY, member_field(audience, dest)]

    def removal_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """The membership property set to false."""
        key = row.get("customer_key")
        if not key:
            return None
        email = ident.normalize_email_basic(row.get("email"), drops) or ""
        return [email, str(key), "false"]

    def write_erasures(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """One GDPR delete body per erased contact, identified by segmint_customer_key."""
        rows = skipped = 0
        for row in iter_rows(table):
            key = row.get("customer_key")
            if not key:
                skipped += 1
                continue
            body = {"objectId": str(key), "idProperty": KEY_PROPERTY}
            fh.write(json.dumps(body, separators=(",", ":")).encode("utf-8") + b"\n")
            rows += 1
        return WriteStats(rows, skipped)
