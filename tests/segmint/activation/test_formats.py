"""Vendor formats: normalisation, SHA-256 against published examples, documented headers."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmint.activation import identity as ident
from segmint.activation.audience import audience_from_mapping
from segmint.activation.formats import FILE_FORMATS

# Published by Meta in "Customer Information Parameters" (Conversions API):
# input -> normalised -> expected SHA-256, quoted verbatim from the vendor's page.
META_EMAIL_HASH = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
META_PHONE_HASH = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
META_FN_MARY = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
META_FN_VALERY = "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"
META_FN_HANGUL = "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"
# Google publishes the normalised forms (Data Manager API "Format user data"); the hashes
# below were computed independently with hashlib.sha256 of those normalised strings.
GOOGLE_GMAIL_HASH = "223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4"
GOOGLE_OTHER_EMAIL_HASH = "f109a2a632fbcea5fc82049f50beed3d8621bf9034399f437fb622222acccdac"
GOOGLE_PHONE_HASH = "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30"


def test_meta_published_examples() -> None:
    assert ident.normalize_email_basic("  John_Smith@gmail.com ") == "john_smith@gmail.com"
    assert ident.hashed(ident.normalize_email_basic("John_Smith@gmail.com")) == META_EMAIL_HASH
    assert ident.normalize_phone_meta("(650)555-1212", "US") == "16505551212"
    assert ident.hashed(ident.normalize_phone_meta("(650)555-1212", "US")) == META_PHONE_HASH
    assert ident.hashed(ident.normalize_name_meta("Mary")) == META_FN_MARY
    assert ident.hashed(ident.normalize_name_meta("Valéry")) == META_FN_VALERY
    assert ident.hashed(ident.normalize_name_meta("정")) == META_FN_HANGUL


def test_google_published_normalisation() -> None:
    # The current page removes the dots of gmail addresses and says nothing of "+suffix".
    gmail = ident.normalize_email_google("cloudy.sanfrancisco@gmail.com")
    assert gmail == "cloudysanfrancisco@gmail.com"
    assert ident.hashed(gmail) == GOOGLE_GMAIL_HASH
    plus = ident.normalize_email_google("Cloudy.SanFrancisco+Shopping@gmail.com")
    assert plus == "cloudysanfrancisco+shopping@gmail.com"
    other = ident.normalize_email_google(" user.name+NYC@Example.com ")
    assert other == "user.name+nyc@example.com"  # dots and plus kept outside gmail
    assert ident.hashed(other) == GOOGLE_OTHER_EMAIL_HASH
    assert ident.normalize_email_google("Jo.Hn@GoogleMail.com") == "john@googlemail.com"
    phone = ident.normalize_phone_e164("(800)555-0100", "US")
    assert phone == "+18005550100"
    assert ident.hashed(phone) == GOOGLE_PHONE_HASH


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(650) 555-1212", "US", "+16505551212"),
        ("1-650-555-1212", "United States", "+16505551212"),
        ("650 555 1212 ext. 44", "US", "+16505551212"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("030 123456", "DE", "+4930123456"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps the leading 0
        ("555-1212", "US", None),  # too short for NANP
        ("12345", "GB", None),
        ("020 7946 0958", None, None),  # national number, unknown country
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_e164(raw: str | None, country: str | None, expected: str | None) -> None:
    assert ident.normalize_phone_e164(raw, country) == expected


def test_meta_zip_city_country() -> None:
    assert ident.normalize_zip_meta("94025-1234", "US") == "94025"
    assert ident.normalize_zip_meta("SW1A 1AA", "GB") == "sw1a1aa"
    assert ident.normalize_name_meta("New York") == "newyork"
    assert ident.normalize_name_meta("O'Brien-Smith") == "obriensmith"
    assert ident.country_iso2("united kingdom") == "GB"
    assert ident.normalize_email_basic("not-an-email") is None


def _audience(**extra: object):
    data = {
        "name": "demo",
        "conditions": {"column": "monetary", "op": ">", "value": 0},
        "columns": ["monetary"],
        "destinations": ["hubspot", "salesforce", "mailchimp", "google_ads", "meta", "csv"],
    }
    data.update(extra)
    return audience_from_mapping(data, "demo.yml")


ROW = {
    "customer_key": "k1",
    "customer_id": "c1",
    "email": " John_Smith@gmail.com",
    "phone": "(650)555-1212",
    "first_name": "Mary",
    "last_name": "Smith",
    "city": "Menlo Park",
    "country": "US",
    "postal_code": "94025-1234",
    "monetary": 12.5,
}
NO_ID = {**ROW, "customer_key": "k2", "email": None, "phone": None, "first_name": None}


def _write(fmt_name: str, rows: list[dict], removals: bool = False, **extra: object) -> list[list]:
    audience = _audience(**extra)
    dest = audience.destination(fmt_name)
    fmt = FILE_FORMATS[fmt_name]
    columns = fmt.removal_columns(audience, dest) if removals else fmt.columns(audience, dest)
    if removals:
        columns = [*columns, "_erased", "_erasure"]
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
    buf = io.BytesIO()
    writer = fmt.write_removals if removals else fmt.write_members
    writer(table, buf, audience, dest)
    return list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8"))))


def test_hubspot_layout() -> None:
    rows = _write("hubspot", [ROW, NO_ID])
    assert rows[0] == [
        "Email",
        "First Name",
        "Last Name",
        "Phone Number",
        "City",
        "Country/Region",
        "Postal Code",
        "segmint_customer_key",
        "segmint_demo",
        "monetary",
    ]
    assert rows[1] == [
        "john_smith@gmail.com",
        "Mary",
        "Smith",
        "+16505551212",
        "Menlo Park",
        "US",
        "94025-1234",
        "k1",
        "true",
        "12.5",
    ]
    assert len(rows) == 2  # the row without an email is skipped (HubSpot dedupes on Email)
    assert _write("hubspot", [ROW], removals=True) == [
        ["Email", "segmint_customer_key", "segmint_demo"],
        ["john_smith@gmail.com", "k1", "false"],
    ]


def test_salesforce_bulk_upsert_layout() -> None:
    extra = {
        "destinations": [
            {
                "format": "salesforce",
                "external_id_field": "Ext_Id__c",
                "field_map": {"monetary": "Lifetime_Value__c"},
            }
        ]
    }
    rows = _write("salesforce", [ROW], **extra)
    assert rows[0] == [
        "Ext_Id__c",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MailingCity",
        "MailingPostalCode",
        "MailingCountryCode",
        "Segmint_demo__c",
        "Lifetime_Value__c",
    ]
    assert rows[1] == [
        "k1",
        "Mary",
        "Smith",
        "john_smith@gmail.com",
        "+16505551212",
        "Menlo Park",
        "94025-1234",
        "US",
        "true",
        "12.5",
    ]
    removal = _write("salesforce", [ROW], removals=True, **extra)
    assert removal == [["Ext_Id__c", "Segmint_demo__c", "HasOptedOutOfEmail"], ["k1", "false", ""]]


def test_mailchimp_layout_with_tags() -> None:
    extra = {"destinations": [{"format": "mailchimp", "tags": ["segmint", "win back"]}]}
    rows = _write("mailchimp", [ROW], **extra)
    assert rows[0] == [
        "Email Address",
        "First Name",
        "Last Name",
        "Phone Number",
        "Tags",
        "monetary",
    ]
    assert rows[1] == [
        "john_smith@gmail.com",
        "Mary",
        "Smith",
        "+16505551212",
        "segmint,win back",
        "12.5",
    ]
    assert _write("mailchimp", [ROW])[1][4] == "demo"


def test_google_customer_match_layout() -> None:
    rows = _write("google_ads", [ROW, NO_ID])
    assert rows[0] == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    assert rows[1] == [
        META_EMAIL_HASH,  # john_smith@gmail.com has no dots: same normalised form
        ident.sha256_hex("+16505551212"),
        META_FN_MARY,
        ident.sha256_hex("smith"),
        "US",
        "94025-1234",
    ]
    assert len(rows) == 2  # no email, no phone, no full name + zip: skipped
    removal = _write("google_ads", [ROW], removals=True)
    assert removal == [["Email", "Phone"], [META_EMAIL_HASH, ident.sha256_hex("+16505551212")]]


def test_meta_custom_audience_layout() -> None:
    rows = _write("meta", [ROW])
    assert rows[0] == ["email", "phone", "fn", "ln", "ct", "zip", "country"]
    assert rows[1] == [
        META_EMAIL_HASH,
        META_PHONE_HASH,
        META_FN_MARY,
        ident.sha256_hex("smith"),
        ident.sha256_hex("menlopark"),
        ident.sha256_hex("94025"),
        ident.sha256_hex("us"),
    ]
    for cell in rows[1]:
        assert len(cell) == 64 and cell == cell.lower()


def test_plain_formats() -> None:
    audience = _audience()
    dest = audience.destination("csv")
    table = pa.table({"customer_key": ["k1", "k2"], "monetary": [1.5, None]})
    out = {}
    for name in ("csv", "jsonl", "parquet"):
        buf = io.BytesIO()
        stats = FILE_FORMATS[name].write_members(table, buf, audience, dest)
        assert stats.rows == 2
        out[name] = buf.getvalue()
    assert out["csv"].decode() == "customer_key,monetary\nk1,1.5\nk2,\n"
    lines = [json.loads(line) for line in out["jsonl"].decode().splitlines()]
    assert lines == [
        {"customer_key": "k1", "monetary": 1.5},
        {"customer_key": "k2", "monetary": None},
    ]
    assert pq.read_table(io.BytesIO(out["parquet"])).to_pylist() == lines
