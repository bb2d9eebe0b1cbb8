"""Mailchimp audience import CSV, and removals as a Marketing API batch."""

from __future__ import annotations

import json
from collections import Counter
from typing import IO, Any

import pyarrow as pa

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import (
    CsvVendorFormat,
    WriteStats,
    erasure_of,
    extra_columns,
    is_erased_row,
    iter_rows,
    text_value,
)

LIST_PLACEHOLDER = "{list_id}"


class MailchimpFormat(CsvVendorFormat):
    """Mailchimp audience import CSV with a Tags column.

    https://mailchimp.com/help/format-guidelines-for-your-import-file/
    Email Address is required (one per contact); phone numbers in E.164; several tags go in
    one Tags cell separated by commas (tag names have no commas here, max 100 characters).
    An import can add tags but not remove them, so removals are a Marketing API batch
    (POST /3.0/batches, https://mailchimp.com/developer/marketing/api/batch-operations/):
    per removed contact "POST /lists/{list_id}/members/{subscriber_hash}/tags" with the
    audience's tags set "inactive" (https://mailchimp.com/developer/marketing/api/list-member-tags/),
    per erased contact "POST .../members/{subscriber_hash}/actions/delete-permanent"
    (https://mailchimp.com/developer/marketing/api/list-members/). subscriber_hash is the
    MD5 of the lowercase email; for an erased contact the hash kept at erasure.
    """

    name = "mailchimp"
    spec = "https://mailchimp.com/help/format-guidelines-for-your-import-file/"
    supports_replace = False
    removal_suffix = ".json"
    removals = (
        "POST the removals file to /3.0/batches: it removes this audience's tags from each "
        "contact (status inactive) and permanently deletes erased contacts. Set list_id in "
        "the destination, else replace {list_id} in the paths. Full exports send it too."
    )
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

    @staticmethod
    def tags(audience: Audience, dest: Destination) -> list[str]:
        """The tags of the audience's contacts (default: the audience name)."""
        return list(dest.tags or [audience.name])

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Email required; tags default to the audience name."""
        email = ident.normalize_email_basic(row.get("email"), drops)
        if email is None:
            return None
        values = [
            email,
            text_value(row.get("first_name")),
            text_value(row.get("last_name")),
            ident.normalize_phone_e164(row.get("phone"), row.get("country"), drops) or "",
            ",".join(self.tags(audience, dest)),
        ]
        return values + [text_value(row.get(c)) for c in extra_columns(audience, self.used)]

    def _operation(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> dict[str, Any] | None:
        """One batch operation: untag a removed contact, delete an erased one."""
        list_id = dest.list_id or LIST_PLACEHOLDER
        kept = erasure_of(row)
        if kept is not None:
            subscriber = kept.get("email_md5")
        elif is_erased_row(row):
            subscriber = None
        else:
            email = ident.normalize_email_basic(row.get("email"), drops)
            subscriber = ident.md5_hex(email) if email else None
        if not subscriber:
            return None
        path = f"/lists/{list_id}/members/{subscriber}"
        if is_erased_row(row):
            return {"method": "POST", "path": f"{path}/actions/delete-permanent"}
        tags = [{"name": t, "status": "inactive"} for t in self.tags(audience, dest)]
        body = json.dumps({"tags": tags}, separators=(",", ":"))
        return {"method": "POST", "path": f"{path}/tags", "body": body}

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """The body of one POST /3.0/batches request."""
        drops: Counter[str] = Counter()
        operations, skipped = [], 0
        for row in iter_rows(table):
            op = self._operation(row, audience, dest, drops)
            if op is None:
                skipped += 1
                continue
            operations.append({**op, "operation_id": str(row.get("customer_key") or "")})
        payload = json.dumps({"operations": operations}, indent=1, ensure_ascii=False)
        fh.write(payload.encode("utf-8") + b"\n")
        return WriteStats(len(operations), skipped, dict(sorted(drops.items())))
