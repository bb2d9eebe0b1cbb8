"""Meta Custom Audience customer list (hashed identifiers)."""

from __future__ import annotations

from collections import Counter
from typing import IO, Any

import pyarrow as pa

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import HashedIdentifierFormat, WriteStats, iter_rows

# Optional identifiers: Meta header -> customer_targeting column(s) it is read from.
OPTIONAL = (
    ("doby", ("birth_date", "birth_year")),
    ("gen", ("gender",)),
    ("st", ("state",)),
)


class MetaFormat(HashedIdentifierFormat):
    """Meta Custom Audience customer list with every identifier normalised and hashed.

    https://www.facebook.com/business/help/2082575038703844 (column headers email, phone,
    fn, ln, ct, st, zip, country, doby, gen) and
    https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
    (normalisation, see identity.py). doby, gen and st are sent when customer_targeting
    has the column (birth_date or birth_year, gender, state); an unknown value is an empty
    cell. Removals: hashed email / phone, applied with "Remove customers" on the audience;
    a full export is applied with "Replace customer list".
    """

    name = "meta"
    spec = "https://www.facebook.com/business/help/2082575038703844"
    removals = (
        "Apply the removals file to the Custom Audience with 'Remove customers' (hashed "
        "email / phone); a full export is applied with 'Replace customer list'."
    )
    header_row = ("email", "phone", "fn", "ln", "ct", "zip", "country")
    removal_header_row = ("email", "phone")
    used = ("email", "phone", "first_name", "last_name", "city", "postal_code", "country")
    email_hash = "email_sha256"
    phone_hash = "phone_digits_sha256"

    def optional_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """birth_date / birth_year, gender, state (when customer_targeting has them)."""
        return [c for _, cols in OPTIONAL for c in cols]

    def _ids(
        self, row: dict[str, Any], drops: Counter[str] | None
    ) -> tuple[str | None, str | None]:
        # EMAIL: trim + lowercase; PHONE: digits with country code, no "+" or leading 0.
        email = ident.hashed(ident.normalize_email_basic(row.get("email"), drops))
        phone = ident.hashed(
            ident.normalize_phone_meta(row.get("phone"), row.get("country"), drops)
        )
        return email, phone

    @staticmethod
    def _optional_headers(table: pa.Table) -> list[tuple[str, str]]:
        names = set(table.column_names)
        out = []
        for header, cols in OPTIONAL:
            found = next((c for c in cols if c in names), None)
            if found:
                out.append((header, found))
        return out

    def _optional_values(self, row: dict[str, Any], present: list[tuple[str, str]]) -> list[str]:
        iso2 = ident.country_iso2(row.get("country"))
        out = []
        for header, column in present:
            value = row.get(column)
            if header == "doby":
                norm = ident.birth_year(value)  # DOBY: YYYY
            elif header == "gen":
                norm = ident.meta_gender(value)  # GEN: m / f
            else:
                norm = ident.us_state_code(value, iso2)  # ST: ANSI code, lowercase
            out.append(ident.hashed(norm) or "")
        return out

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Every identifier hashed; None when there is neither email, phone nor full name."""
        email, phone = self._ids(row, drops)
        # FN / LN: lowercase letters (UTF-8), no punctuation.
        first = ident.hashed(ident.normalize_name_meta(row.get("first_name")))
        last = ident.hashed(ident.normalize_name_meta(row.get("last_name")))
        if not (email or phone or (first and last)):
            return None
        iso2 = ident.country_iso2(row.get("country"))
        # CT: lowercase a-z, no spaces or punctuation; ZIP: lowercase, no spaces, US 5
        # digits; COUNTRY: lowercase ISO alpha-2.
        city = ident.hashed(ident.normalize_name_meta(row.get("city")))
        zip_code = ident.hashed(ident.normalize_zip_meta(row.get("postal_code"), iso2))
        country = ident.hashed(iso2.lower() if iso2 else None)
        cells = (email, phone, first, last, city, zip_code, country)
        return [c or "" for c in cells]

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """The base columns, then doby / gen / st for the optional columns the table has."""
        present = self._optional_headers(table)
        header = [*self.header_row, *(h for h, _ in present)]
        drops: Counter[str] = Counter()

        def rows():
            for row in iter_rows(table):
                values = self.member_values(row, audience, dest, drops)
                yield None if values is None else values + self._optional_values(row, present)

        return self._write(fh, header, rows(), drops)
