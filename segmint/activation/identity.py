"""Identifier normalisation and hashing as the destinations specify, through maintained
libraries: phone numbers with `phonenumbers` (validated, E.164), email syntax with
`email-validator` (no DNS), countries and US states with `pycountry`.

Sources (checked 2026-12 against the vendors' current pages):
- Google Customer Match / Data Manager API, "Format user data":
  https://developers.google.com/data-manager/api/get-started/formatting
  email: lowercase, trim leading, trailing and intermediate whitespace; for gmail.com /
  googlemail.com remove all dots before the @ (the page says nothing about a "+suffix":
  it is kept). phone: "+" and country code, digits only after it (E.164). given/family
  name: lowercase, trim leading and trailing whitespace (inner spaces kept). SHA-256 hex.
  region (country) and postal code are never hashed.
- Meta customer list / Marketing API customer file normalisation:
  https://www.facebook.com/business/help/2082575038703844 (headers) and
  https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
  ("Hashing and normalization": EMAIL trim + lowercase; PHONE digits only with country
  code, no leading zeros; FN/LN lowercase a-z, UTF-8 letters allowed, no punctuation;
  CT lowercase letters only, no spaces or punctuation; ST 2-character ANSI code in
  lowercase for US states, else lowercase without punctuation or spaces; ZIP lowercase
  without spaces (US: 5 digits); COUNTRY lowercase ISO 3166-1 alpha-2; DOBY four-digit
  year; GEN "m" or "f"; every value SHA-256 hashed).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from datetime import date, datetime

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

_WS = re.compile(r"\s+")
_GMAIL = frozenset({"gmail.com", "googlemail.com"})

# Reasons a value is dropped from an export (counted per file in the manifest).
PHONE_INVALID = "phone_invalid"
PHONE_NO_COUNTRY = "phone_national_without_country"
EMAIL_INVALID = "email_invalid"


def sha256_hex(value: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes of value."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def md5_hex(value: str) -> str:
    """Lower-case hex MD5 (Mailchimp's subscriber hash of the lowercase email)."""
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def hashed(value: str | None) -> str | None:
    """SHA-256 hex of an already normalised value; None stays None."""
    return sha256_hex(value) if value else None


def _count(drops: Counter[str] | None, reason: str) -> None:
    if drops is not None:
        drops[reason] += 1


# --------------------------------------------------------------------------- country


def country_iso2(country: str | None) -> str | None:
    """ISO 3166-1 alpha-2 (upper case) of an alpha-2/alpha-3 code or an English name
    (pycountry: names, official and common names), else None."""
    if country is None:
        return None
    text = _WS.sub(" ", str(country)).strip()
    if not text:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def us_state_code(state: str | None, country: str | None) -> str | None:
    """Meta `st`: the 2-letter ANSI code (lowercase) of a US state given by code or name;
    elsewhere the name lowercased without punctuation or spaces."""
    if state is None:
        return None
    text = _WS.sub(" ", str(state)).strip()
    if not text:
        return None
    if country_iso2(country) == "US":
        code = f"US-{text.upper()}" if len(text) == 2 else None
        sub = pycountry.subdivisions.get(code=code) if code else None
        if sub is None:
            for candidate in pycountry.subdivisions.get(country_code="US") or []:
                if candidate.name.lower() == text.lower():
                    sub = candidate
                    break
        if sub is not None:
            return str(sub.code).split("-", 1)[1].lower()
    return normalize_name_meta(text)


# --------------------------------------------------------------------------- email


def normalize_email_basic(email: str | None, drops: Counter[str] | None = None) -> str | None:
    """Trimmed, lowercase address whose syntax email-validator accepts (no DNS); else None
    (counted as email_invalid when a non-empty value is refused)."""
    if email is None:
        return None
    text = str(email).strip()
    if not text:
        return None
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        _count(drops, EMAIL_INVALID)
        return None
    return info.normalized.lower()


def normalize_email_google(email: str | None, drops: Counter[str] | None = None) -> str | None:
    """Google: all whitespace removed, lowercase; gmail.com / googlemail.com lose the dots
    of the local part. A "+suffix" is kept (the current spec does not remove it)."""
    if email is None:
        return None
    address = normalize_email_basic(_WS.sub("", str(email)), drops)
    if address is None:
        return None
    local, domain = address.rsplit("@", 1)
    if domain in _GMAIL:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def mailchimp_subscriber_hash(email: str | None) -> str | None:
    """MD5 of the lowercase address: how Mailchimp's Marketing API names a member
    (https://mailchimp.com/developer/marketing/docs/methods-parameters/#path-parameters)."""
    address = normalize_email_basic(email)
    return md5_hex(address) if address else None


# --------------------------------------------------------------------------- phone


def normalize_phone_e164(
    phone: str | None, country: str | None = None, drops: Counter[str] | None = None
) -> str | None:
    """E.164 ("+", country code, number) of a number phonenumbers parses and validates;
    national numbers use the customer's country. None otherwise (reason counted)."""
    if phone is None:
        return None
    text = str(phone).strip()
    if not text:
        return None
    region = country_iso2(country)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = (
            PHONE_NO_COUNTRY
            if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
            else PHONE_INVALID
        )
        _count(drops, reason)
        return None
    if not phonenumbers.is_valid_number(number):
        _count(drops, PHONE_INVALID)
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_meta(
    phone: str | None, country: str | None = None, drops: Counter[str] | None = None
) -> str | None:
    """Meta's phone form: E.164 digits without the "+" (country code, no leading zeros)."""
    e164 = normalize_phone_e164(phone, country, drops)
    return e164[1:] if e164 else None


# --------------------------------------------------------------------------- names etc.


def normalize_name_google(name: str | None) -> str | None:
    """Google given/family name: trimmed and lowercase; inner spaces kept."""
    if name is None:
        return None
    text = str(name).strip().lower()
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


def birth_year(value: date | datetime | str | int | None) -> str | None:
    """Meta doby: the four-digit year of a birth date (1900 up to this year), else None."""
    if value is None:
        return None
    if isinstance(value, date | datetime):
        year = value.year
    else:
        match = re.match(r"^\s*(\d{4})", str(value))
        if not match:
            return None
        year = int(match.group(1))
    return str(year) if 1900 <= year <= date.today().year else None


_GENDERS = {"m": "m", "male": "m", "man": "m", "f": "f", "female": "f", "woman": "f"}


def meta_gender(value: str | None) -> str | None:
    """Meta gen: "m" or "f"; other or unknown values are not sent."""
    if value is None:
        return None
    return _GENDERS.get(str(value).strip().lower())


def erasure_hashes(
    email: str | None, phone: str | None, country: str | None
) -> dict[str, str | None]:
    """What an erased customer's removal needs at each destination, computed by `segmint
    forget` before the contact data is deleted: the hashes the destinations already hold
    (never the email or phone itself). Keys: email_sha256 (Meta), email_google_sha256,
    phone_e164_sha256 (Google), phone_digits_sha256 (Meta), email_md5 (Mailchimp)."""
    return {
        "email_sha256": hashed(normalize_email_basic(email)),
        "email_google_sha256": hashed(normalize_email_google(email)),
        "phone_e164_sha256": hashed(normalize_phone_e164(phone, country)),
        "phone_digits_sha256": hashed(normalize_phone_meta(phone, country)),
        "email_md5": mailchimp_subscriber_hash(email),
    }
