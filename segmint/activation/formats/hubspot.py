"""HubSpot contacts import CSV."""

from __future__ import annotations

from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import (
    CONTACT_COLUMNS,
    CsvVendorFormat,
    extra_columns,
    text_value,
)


class HubSpotFormat(CsvVendorFormat):
    """HubSpot contacts import: header row of property labels; Email dedupes contacts.

    https://knowledge.hubspot.com/import-and-export/set-up-your-import-file
    (contacts need First name, Last name or Email; Email is the unique identifier).
    Extra audience columns are sent under their own names (map them to custom properties).
    """

    name = "hubspot"
    spec = "https://knowledge.hubspot.com/import-and-export/set-up-your-import-file"
    base = (
        "Email",
        "First Name",
        "Last Name",
        "Phone Number",
        "City",
        "Country/Region",
        "Postal Code",
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + extra audience columns."""
        return ["customer_key", *CONTACT_COLUMNS, *extra_columns(audience, CONTACT_COLUMNS)]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Only the email."""
        return ["customer_key", "email"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """HubSpot property labels, then extra columns."""
        return [*self.base, *extra_columns(audience, CONTACT_COLUMNS)]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """Email required (trimmed, lower case); phone in E.164."""
        email = ident.normalize_email_basic(row.get("email"))
        if email is None:
            return None
        country = ident.country_iso2(row.get("country"))
        values = [
            email,
            text_value(row.get("first_name")),
            text_value(row.get("last_name")),
            ident.normalize_phone_e164(row.get("phone"), country) or "",
            text_value(row.get("city")),
            country or "",
            text_value(row.get("postal_code")),
        ]
        return values + [text_value(row.get(c)) for c in extra_columns(audience, CONTACT_COLUMNS)]

    def removal_header(self, dest: Destination) -> list[str]:
        """Email only."""
        return ["Email"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The email of the contact to remove from the list."""
        email = ident.normalize_email_basic(row.get("email"))
        return [email] if email else None
