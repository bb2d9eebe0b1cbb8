"""Export file formats: each vendor's documented import layout, plus plain CSV/Parquet/JSONL.

Every format turns rows of marts.customer_targeting (as a pyarrow table) into a members
file and a removals file (delta mode). Removal files carry only the identifier the
destination needs to drop the contact (no attributes). Vendor sources are cited per class.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination

CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "city", "country", "postal_code")
BATCH_ROWS = 10_000


@dataclass(frozen=True)
class WriteStats:
    """Rows written and rows skipped for lack of a usable identifier."""

    rows: int
    skipped: int


def text_value(value: Any) -> str:
    """A cell as text: '' for null, true/false, ISO dates, plain numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def iter_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    """Rows of an arrow table as dicts, a batch at a time."""
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        yield from batch.to_pylist()


def _extra_columns(audience: Audience, taken: tuple[str, ...]) -> list[str]:
    return [c for c in audience.columns if c not in taken and c != "customer_key"]


class ExportFormat:
    """Base of every format: which columns it reads and how it writes them."""

    name: str = ""
    suffix: str = ".csv"
    spec: str = ""  # where the layout is documented

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns of customer_targeting this format reads for members."""
        raise NotImplementedError

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns it reads for removals."""
        raise NotImplementedError

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Write the members (or adds) file."""
        raise NotImplementedError

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Write the removals file."""
        raise NotImplementedError


class CsvVendorFormat(ExportFormat):
    """A header row and one row per contact (UTF-8, comma, double-quote quoting, LF)."""

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """The header row."""
        raise NotImplementedError

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """The cells of one member, or None when it has no usable identifier."""
        raise NotImplementedError

    def removal_header(self, dest: Destination) -> list[str]:
        """The header row of the removals file."""
        raise NotImplementedError

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The cells of one removal, or None when it has no usable identifier."""
        raise NotImplementedError

    def _write(
        self, fh: IO[bytes], header: list[str], rows: Iterator[list[str] | None]
    ) -> WriteStats:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        try:
            writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            written = skipped = 0
            for values in rows:
                if values is None:
                    skipped += 1
                    continue
                writer.writerow(values)
                written += 1
            text.flush()
        finally:
            text.detach()
        return WriteStats(written, skipped)

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one row per member with an identifier."""
        rows = (self.member_values(r, audience, dest) for r in iter_rows(table))
        return self._write(fh, self.header(audience, dest), rows)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one identifier row per removed contact."""
        rows = (self.removal_values(r, dest) for r in iter_rows(table))
        return self._write(fh, self.removal_header(dest), rows)


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
        return ["customer_key", *CONTACT_COLUMNS, *_extra_columns(audience, CONTACT_COLUMNS)]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Only the email."""
        return ["customer_key", "email"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """HubSpot property labels, then extra columns."""
        return [*self.base, *_extra_columns(audience, CONTACT_COLUMNS)]

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
        return values + [text_value(row.get(c)) for c in _extra_columns(audience, CONTACT_COLUMNS)]

    def removal_header(self, dest: Destination) -> list[str]:
        """Email only."""
        return ["Email"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The email of the contact to remove from the list."""
        email = ident.normalize_email_basic(row.get("email"))
        return [email] if email else None


class SalesforceFormat(CsvVendorFormat):
    """Salesforce Bulk API 2.0 upsert CSV for Contact, keyed by an external ID field.

    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_prepare_csv.htm
    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/walkthrough_upsert.htm
    Header = field API names, one column is the external ID field; UTF-8, comma, LF line
    ending (the job default), double quotes; empty cells leave a field unchanged on upsert;
    booleans true/false; dates YYYY-MM-DD. Removals upsert the member flag to false.
    """

    name = "salesforce"
    spec = (
        "https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/"
        "datafiles_prepare_csv.htm"
    )
    fields = (
        ("first_name", "FirstName"),
        ("last_name", "LastName"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("city", "MailingCity"),
        ("postal_code", "MailingPostalCode"),
        ("country", "MailingCountry"),
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + the columns of field_map."""
        mapped = [c for c in dest.field_map if c not in CONTACT_COLUMNS]
        return ["customer_key", *CONTACT_COLUMNS, *mapped]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """The external id only."""
        return ["customer_key"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """External id, Contact fields, member flag, mapped fields."""
        return [
            dest.external_id_field,
            *(f for _, f in self.fields),
            dest.member_field,
            *dest.field_map.values(),
        ]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """One Contact upsert row (the external id is the pseudonymous customer_key)."""
        key = row.get("customer_key")
        if not key:
            return None
        country = ident.country_iso2(row.get("country"))
        values = [str(key)]
        for column, _ in self.fields:
            if column == "email":
                values.append(ident.normalize_email_basic(row.get("email")) or "")
            elif column == "phone":
                values.append(ident.normalize_phone_e164(row.get("phone"), country) or "")
            elif column == "country":
                values.append(country or "")
            else:
                values.append(text_value(row.get(column)))
        values.append("true")
        return values + [text_value(row.get(c)) for c in dest.field_map]

    def removal_header(self, dest: Destination) -> list[str]:
        """External id and member flag."""
        return [dest.external_id_field, dest.member_field]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """Upsert the member flag to false."""
        key = row.get("customer_key")
        return [str(key), "false"] if key else None


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
        return ["customer_key", *self.used, *_extra_columns(audience, self.used)]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Only the email."""
        return ["customer_key", "email"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """Mailchimp field names, then extra columns."""
        return [*self.base, *_extra_columns(audience, self.used)]

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
        return values + [text_value(row.get(c)) for c in _extra_columns(audience, self.used)]

    def removal_header(self, dest: Destination) -> list[str]:
        """Email Address only."""
        return ["Email Address"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The email to untag / archive."""
        email = ident.normalize_email_basic(row.get("email"))
        return [email] if email else None


class GoogleAdsFormat(CsvVendorFormat):
    """Google Ads Customer Match upload with identifiers normalised and SHA-256 hashed.

    https://support.google.com/google-ads/answer/7659867 (headers Email, Phone, First Name,
    Last Name, Country, Zip) and
    https://developers.google.com/data-manager/api/devguides/concepts/formatting
    (normalisation; Country and Zip are sent in clear).
    """

    name = "google_ads"
    spec = "https://support.google.com/google-ads/answer/7659867"
    header_row = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
    used = ("email", "phone", "first_name", "last_name", "country", "postal_code")

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Identifiers only (Customer Match takes nothing else)."""
        return ["customer_key", *self.used]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Email and phone (and country for the phone)."""
        return ["customer_key", "email", "phone", "country"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """Google's column names."""
        return list(self.header_row)

    def _ids(self, row: dict[str, Any]) -> tuple[str | None, str | None]:
        email = ident.hashed(ident.normalize_email_google(row.get("email")))
        phone = ident.hashed(ident.normalize_phone_e164(row.get("phone"), row.get("country")))
        return email, phone

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """Hashed email/phone/names; clear country and zip; None without a match key."""
        email, phone = self._ids(row)
        first = ident.hashed(ident.normalize_name_google(row.get("first_name")))
        last = ident.hashed(ident.normalize_name_google(row.get("last_name")))
        country = ident.country_iso2(row.get("country"))
        zip_code = ident.normalize_zip(row.get("postal_code"))
        address = first and last and country and zip_code
        if not (email or phone or address):
            return None
        return [email or "", phone or "", first or "", last or "", country or "", zip_code or ""]

    def removal_header(self, dest: Destination) -> list[str]:
        """Email and Phone."""
        return ["Email", "Phone"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """Hashed email and phone of the contact to remove."""
        email, phone = self._ids(row)
        return [email or "", phone or ""] if (email or phone) else None


class MetaFormat(CsvVendorFormat):
    """Meta Custom Audience customer list with every identifier normalised and hashed.

    https://www.facebook.com/business/help/2082575038703844 (column headers email, phone,
    fn, ln, ct, zip, country) and
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
    (normalisation and published example hashes).
    """

    name = "meta"
    spec = "https://www.facebook.com/business/help/2082575038703844"
    header_row = ("email", "phone", "fn", "ln", "ct", "zip", "country")
    used = ("email", "phone", "first_name", "last_name", "city", "postal_code", "country")

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Identifiers only."""
        return ["customer_key", *self.used]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Email and phone (and country for the phone)."""
        return ["customer_key", "email", "phone", "country"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """Meta's identifier keys."""
        return list(self.header_row)

    def _ids(self, row: dict[str, Any]) -> tuple[str | None, str | None]:
        email = ident.hashed(ident.normalize_email_basic(row.get("email")))
        phone = ident.hashed(ident.normalize_phone_meta(row.get("phone"), row.get("country")))
        return email, phone

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """Every identifier hashed; None when there is neither email, phone nor full name."""
        email, phone = self._ids(row)
        first = ident.hashed(ident.normalize_name_meta(row.get("first_name")))
        last = ident.hashed(ident.normalize_name_meta(row.get("last_name")))
        if not (email or phone or (first and last)):
            return None
        iso2 = ident.country_iso2(row.get("country"))
        city = ident.hashed(ident.normalize_name_meta(row.get("city")))
        zip_code = ident.hashed(ident.normalize_zip_meta(row.get("postal_code"), iso2))
        country = ident.hashed(iso2.lower() if iso2 else None)
        cells = (email, phone, first, last, city, zip_code, country)
        return [c or "" for c in cells]

    def removal_header(self, dest: Destination) -> list[str]:
        """email and phone."""
        return ["email", "phone"]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """Hashed email and phone of the contact to remove."""
        email, phone = self._ids(row)
        return [email or "", phone or ""] if (email or phone) else None


class PlainFormat(ExportFormat):
    """customer_key + the audience's columns, values as stored (CSV / Parquet / JSON lines)."""

    spec = "segmint plain export: customer_key + the audience's columns"

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """customer_key then the audience's columns."""
        return ["customer_key", *[c for c in audience.columns if c != "customer_key"]]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """customer_key only."""
        return ["customer_key"]


class CsvFormat(PlainFormat):
    """RFC 4180 CSV with a header row (UTF-8, LF)."""

    name = "csv"
    suffix = ".csv"
    spec = "https://www.rfc-editor.org/rfc/rfc4180"

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        try:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(table.column_names)
            rows = 0
            for row in iter_rows(table):
                writer.writerow([text_value(row[c]) for c in table.column_names])
                rows += 1
            text.flush()
        finally:
            text.detach()
        return WriteStats(rows, 0)

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """All selected columns."""
        return self._write(table, fh)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """customer_key only."""
        return self._write(table.select(["customer_key"]), fh)


def _json_value(value: Any) -> Any:
    if isinstance(value, date | Decimal):
        return text_value(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonLinesFormat(PlainFormat):
    """One JSON object per line (UTF-8), dates as ISO strings."""

    name = "jsonl"
    suffix = ".jsonl"
    spec = "https://jsonlines.org/"

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        rows = 0
        for row in iter_rows(table):
            clean = {k: _json_value(v) for k, v in row.items()}
            fh.write(json.dumps(clean, ensure_ascii=False, allow_nan=False).encode("utf-8"))
            fh.write(b"\n")
            rows += 1
        return WriteStats(rows, 0)

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """All selected columns."""
        return self._write(table, fh)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """customer_key only."""
        return self._write(table.select(["customer_key"]), fh)


class ParquetFormat(PlainFormat):
    """Apache Parquet with the warehouse's column types."""

    name = "parquet"
    suffix = ".parquet"
    spec = "https://parquet.apache.org/docs/file-format/"

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """All selected columns."""
        pq.write_table(table, fh)
        return WriteStats(table.num_rows, 0)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """customer_key only."""
        pq.write_table(table.select(["customer_key"]), fh)
        return WriteStats(table.num_rows, 0)


FILE_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        HubSpotFormat(),
        SalesforceFormat(),
        MailchimpFormat(),
        GoogleAdsFormat(),
        MetaFormat(),
        CsvFormat(),
        ParquetFormat(),
        JsonLinesFormat(),
    )
}
