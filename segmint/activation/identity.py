"""Identifier normalisation and SHA-256 hashing as the ad platforms specify.

Sources (checked when this was written):
- Google Customer Match / Data Manager API, "Format user data":
  https://developers.google.com/data-manager/api/devguides/concepts/formatting
  email: trim all whitespace, lowercase; for gmail.com / googlemail.com remove every dot
  before the @ and a "+suffix" of the local part. phone: E.164 with "+" and country code.
  names: lowercase, trimmed. SHA-256, hex encoded. Country and zip are never hashed.
- Meta Custom Audiences / customer information parameters:
  https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
  email: trim + lowercase. phone: digits only, with country code, no leading zeros, no "+".
  fn/ln: lowercase, no punctuation (UTF-8 letters allowed). ct: lowercase letters only.
  zip: lowercase, no spaces (US: first 5 digits). country: lowercase ISO 3166-1 alpha-2.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

_WS = re.compile(r"\s+")
_EXTENSION = re.compile(r"(?:ext\.?|extension|x|#)\s*\d+\s*$", re.IGNORECASE)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True)
class Country:
    """Dialling facts of one country."""

    iso2: str
    calling_code: str
    drop_trunk_zero: bool = True  # national numbers start with a trunk "0" to drop (not IT)


COUNTRIES: dict[str, Country] = {
    c.iso2: c
    for c in (
        Country("US", "1", False),
        Country("CA", "1", False),
        Country("GB", "44"),
        Country("IE", "353"),
        Country("DE", "49"),
        Country("FR", "33"),
        Country("ES", "34"),
        Country("IT", "39", False),
        Country("NL", "31"),
        Country("BE", "32"),
        Country("LU", "352"),
        Country("AT", "43"),
        Country("CH", "41"),
        Country("PL", "48"),
        Country("CZ", "420"),
        Country("SE", "46"),
        Country("NO", "47", False),
        Country("DK", "45", False),
        Country("FI", "358"),
        Country("PT", "351", False),
        Country("GR", "30", False),
        Country("HU", "36"),
        Country("RO", "40"),
        Country("TR", "90"),
        Country("AU", "61"),
        Country("NZ", "64"),
        Country("JP", "81"),
        Country("CN", "86"),
        Country("IN", "91"),
        Country("SG", "65", False),
        Country("ZA", "27"),
        Country("BR", "55"),
        Country("MX", "52", False),
    )
}

COUNTRY_NAMES: dict[str, str] = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "austria": "AT",
    "switzerland": "CH",
    "poland": "PL",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "ireland": "IE",
    "portugal": "PT",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "australia": "AU",
    "new zealand": "NZ",
    "japan": "JP",
    "china": "CN",
    "india": "IN",
    "south africa": "ZA",
}


def sha256_hex(value: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes of value."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def country_iso2(country: str | None) -> str | None:
    """ISO 3166-1 alpha-2 (upper case) of a code or common English name, else None."""
    if country is None:
        return None
    text = _WS.sub(" ", str(country)).strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRY_NAMES.get(text.lower())


def normalize_email_basic(email: str | None) -> str | None:
    """Trim and lowercase (Meta, HubSpot, Mailchimp); None when it is not an address."""
    if email is None:
        return None
    text = str(email).strip().lower()
    if text.count("@") != 1 or text.startswith("@") or text.endswith("@"):
        return None
    return text


def normalize_email_google(email: str | None) -> str | None:
    """Google's rule: remove all whitespace, lowercase; gmail: drop dots and +suffix."""
    if email is None:
        return None
    text = _WS.sub("", str(email)).lower()
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or not domain:
        return None
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


def normalize_phone_e164(phone: str | None, country: str | None = None) -> str | None:
    """E.164 ("+" country code, subscriber number) using the customer's country; else None.

    Numbers already written internationally (+CC or 00CC) keep their country code; national
    numbers get the calling code of `country` (ISO code or common name) with the trunk 0
    dropped where the country uses one. NANP numbers (US/CA) must have 10 digits.
    """
    if phone is None:
        return None
    text = _EXTENSION.sub("", str(phone)).replace("(0)", "").strip()
    if not text:
        return None
    international = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if international:
        e164 = digits
    else:
        info = COUNTRIES.get(country_iso2(country) or "")
        if info is None:
            return None
        if info.calling_code == "1":
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            if len(digits) != 10:
                return None
        elif info.drop_trunk_zero:
            digits = digits.lstrip("0")
        e164 = info.calling_code + digits
    if e164.startswith("0") or not 8 <= len(e164) <= 15:
        return None
    return "+" + e164


def normalize_phone_meta(phone: str | None, country: str | None = None) -> str | None:
    """Meta's phone form: E.164 digits without the "+" (country code, no leading zeros)."""
    e164 = normalize_phone_e164(phone, country)
    return e164[1:] if e164 else None


def normalize_name_google(name: str | None) -> str | None:
    """Google: lowercase, whitespace removed."""
    if name is None:
        return None
    text = _WS.sub("", str(name)).lower()
    return text or None


def normalize_name_meta(name: str | None) -> str | None:
    """Meta fn/ln/ct: lowercase letters only (accents and non-Latin scripts kept, UTF-8)."""
    if name is None:
        return None
    text = unicodedata.normalize("NFC", str(name).strip().lower())
    text = "".join(ch for ch in text if unicodedata.category(ch).startswith("L"))
    return text or None


def normalize_zip_meta(postal_code: str | None, country: str | None = None) -> str | None:
    """Meta zip: lowercase without spaces or dashes; US: the first five digits."""
    if postal_code is None:
        return None
    text = re.sub(r"[\s\-]", "", str(postal_code)).lower()
    if country_iso2(country) == "US":
        text = text[:5]
    return text or None


def normalize_zip(postal_code: str | None) -> str | None:
    """Trimmed postal code (Google's Zip is sent in clear)."""
    if postal_code is None:
        return None
    text = _WS.sub(" ", str(postal_code)).strip()
    return text or None


def hashed(value: str | None) -> str | None:
    """SHA-256 hex of an already normalised value; None stays None."""
    return sha256_hex(value) if value else None
