"""Mailchimp audience import CSV."""

from __future__ import annotations

from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import CsvVendorFormat, extra_columns, text_value


class MailchimpFormat(CsvVendorFormat):
    """Mailchimp audience import CSV with a Tags column.

    https://mailchimp.com/help/format-guidelines-for-your-import-file/
    Email Address is required (one per contact); phone numbers in E.164; several tags go in
    one Tags cell separated by commas (tag names have no commas here, max 100 characters).
    """

    name = "mailchimp"
    spec = "https://mailchimp.com/help/format-guidelines-for-your-import-file/"
    base = ("Email Address", "First Name", "Last Name", "Phone Number", "Tags")
    used = ("email", "first_name", "last_name", "phone", "country")

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + extra audience columns (merge fields)."""
        return ["customer_key", *self.used, *extra_columns(audience, self.used)]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Only the email."""
        return ["customer_key", "email"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """Mailchimp field names, then extra columns."""
        return [*self.base, *extra_columns(audience, self.used)]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """Email required; tags default to the audience name."""
        email = ident.normalize_email_basic(row.get("email"))
        if email is None:
            return None
        tags = ",".join(dest.tags or [audience.name])
        values = [
            email,
            text_value(row.get("first_name")),
            text_value(row.get("last_name")),
            ident.normalize_phone_e164(row.get("phone"), row.get("country")) or "",
            tags,
        ]
        return values + [text_value(row.get(c)) for c in extra_columns(audience, self.used)]

    def removal_header(self, dest: Destination) -> list[str]:
        """Email Address only."""
        return ["Email Address"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The email to untag / archive."""
        email = ident.normalize_email_basic(row.get("email"))
        return [email] if email else None
