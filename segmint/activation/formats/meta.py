"""Meta Custom Audience customer list (hashed identifiers)."""

from __future__ import annotations

from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import HashedIdentifierFormat


class MetaFormat(HashedIdentifierFormat):
    """Meta Custom Audience customer list with every identifier normalised and hashed.

    https://www.facebook.com/business/help/2082575038703844 (column headers email, phone,
    fn, ln, ct, zip, country) and
    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
    (normalisation and published example hashes).
    """

    name = "meta"
    spec = "https://www.facebook.com/business/help/2082575038703844"
    header_row = ("email", "phone", "fn", "ln", "ct", "zip", "country")
    removal_header_row = ("email", "phone")
    used = ("email", "phone", "first_name", "last_name", "city", "postal_code", "country")

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
