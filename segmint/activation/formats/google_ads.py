"""Google Ads Customer Match upload (hashed identifiers)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import HashedIdentifierFormat


class GoogleAdsFormat(HashedIdentifierFormat):
    """Google Ads Customer Match upload with identifiers normalised and SHA-256 hashed.

    https://support.google.com/google-ads/answer/7659867 (headers Email, Phone, First Name,
    Last Name, Country, Zip) and
    https://developers.google.com/data-manager/api/get-started/formatting
    (normalisation, see identity.py; Country and Zip are sent in clear).
    Removals: the same hashed Email / Phone columns, uploaded with the list's "Remove"
    option; a full export is uploaded with "Replace" (Customer Match "Update your customer
    list": https://support.google.com/google-ads/answer/7659867).
    """

    name = "google_ads"
    spec = "https://support.google.com/google-ads/answer/7659867"
    removals = (
        "Upload the removals file to the same Customer Match list with the 'Remove data' "
        "option (hashed Email / Phone); a full export replaces the list ('Replace all data')."
    )
    header_row = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
    removal_header_row = ("Email", "Phone")
    used = ("email", "phone", "first_name", "last_name", "country", "postal_code")
    email_hash = "email_google_sha256"
    phone_hash = "phone_e164_sha256"

    def _ids(
        self, row: dict[str, Any], drops: Counter[str] | None
    ) -> tuple[str | None, str | None]:
        # Data Manager "Format user data": email lowercase, all whitespace trimmed, gmail /
        # googlemail dots removed (no +suffix rule); phone E.164 with "+".
        email = ident.hashed(ident.normalize_email_google(row.get("email"), drops))
        phone = ident.hashed(
            ident.normalize_phone_e164(row.get("phone"), row.get("country"), drops)
        )
        return email, phone

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Hashed email/phone/names; clear country and zip; None without a match key."""
        email, phone = self._ids(row, drops)
        # given_name / family_name: lowercase, leading and trailing whitespace trimmed.
        first = ident.hashed(ident.normalize_name_google(row.get("first_name")))
        last = ident.hashed(ident.normalize_name_google(row.get("last_name")))
        # region_code: ISO-3166-1 alpha-2, not hashed; postal_code: not hashed.
        country = ident.country_iso2(row.get("country"))
        zip_code = ident.normalize_zip(row.get("postal_code"))
        address = first and last and country and zip_code
        if not (email or phone or address):
            return None
        return [email or "", phone or "", first or "", last or "", country or "", zip_code or ""]
