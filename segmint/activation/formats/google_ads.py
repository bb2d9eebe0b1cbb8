"""Google Ads Customer Match upload (hashed identifiers)."""

from __future__ import annotations

from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import HashedIdentifierFormat


class GoogleAdsFormat(HashedIdentifierFormat):
    """Google Ads Customer Match upload with identifiers normalised and SHA-256 hashed.

    https://support.google.com/google-ads/answer/7659867 (headers Email, Phone, First Name,
    Last Name, Country, Zip) and
    https://developers.google.com/data-manager/api/devguides/concepts/formatting
    (normalisation; Country and Zip are sent in clear).
    """

    name = "google_ads"
    spec = "https://support.google.com/google-ads/answer/7659867"
    header_row = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
    removal_header_row = ("Email", "Phone")
    used = ("email", "phone", "first_name", "last_name", "country", "postal_code")

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
