"""Vendor import rules (#15): one tiny audience per rule, checked against the exact bytes of
the file the format writes. Expected hashes are computed here from the normalised text the
vendor's page asks for, not with segmint's own helpers."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from segmint.activation import AudienceError, export_audience, validate_audiences
from segmint.activation.audience import audience_from_mapping
from segmint.activation.formats import FILE_FORMATS
from tests.segmint.activation.data import load_targeting, make_rows, write_yaml


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _audience(dest: object, name: str = "tiny"):
    data = {
        "name": name,
        "conditions": {"column": "monetary", "op": ">", "value": 0},
        "columns": [],
        "destinations": [dest],
    }
    return audience_from_mapping(data, f"{name}.yml")


def _bytes(dest: object, rows: list[dict], removals: bool = False, erasures: bool = False):
    """(file bytes, WriteStats) of a members / removals / erasures file of tiny rows."""
    aud = _audience(dest)
    d = aud.destinations[0]
    fmt = FILE_FORMATS[d.format]
    if removals or erasures:
        cols = [*fmt.removal_columns(aud, d), "_erased", "_erasure"]
        writer = fmt.write_erasures if erasures else fmt.write_removals
    else:
        cols = [*fmt.columns(aud, d), *[c for r in rows for c in r if c not in fmt.columns(aud, d)]]
        writer = fmt.write_members
    cols = list(dict.fromkeys(cols))
    table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
    buf = io.BytesIO()
    stats = writer(table, buf, aud, d)
    return buf.getvalue(), stats


BASE = {
    "customer_key": "k1",
    "email": " Jane.Doe+News@GMail.com ",
    "phone": "020 7946 0958",
    "first_name": "  Mary Ann ",
    "last_name": " de la Cruz",
    "city": "New York",
    "country": "United Kingdom",
    "postal_code": "SW1A 1AA",
}


def test_phone_numbers_validated_e164_and_invalid_dropped_with_a_counted_reason() -> None:
    rows = [
        BASE,
        {**BASE, "customer_key": "k2", "email": "b@example.com", "phone": "12345"},
        {**BASE, "customer_key": "k3", "phone": "+1 415", "country": None},
        {**BASE, "customer_key": "k4", "phone": "0301234", "country": None},
    ]
    data, stats = _bytes("salesforce", rows)
    lines = data.decode().split("\n")
    assert [line.split(",")[4] for line in lines[1:5]] == ["+442079460958", "", "", ""]
    # 12345 (GB) and +1 415 do not validate; 0301234 has no country to dial from.
    assert stats.dropped == {"phone_invalid": 2, "phone_national_without_country": 1}
    assert stats.rows == 4


def test_emails_checked_by_email_validator_syntax_only() -> None:
    rows = [
        {**BASE, "email": "Someone@Example.COM"},
        {**BASE, "customer_key": "k2", "email": "no-at-sign.example.com"},
        {**BASE, "customer_key": "k3", "email": "x@localhost"},  # no dot in the domain
        {**BASE, "customer_key": "k4", "email": "fresh@unregistered-domain-zz9.com"},  # no DNS
    ]
    data, stats = _bytes("mailchimp", rows)
    assert data == (
        b"Email Address,First Name,Last Name,Phone Number,Tags\n"
        b"someone@example.com,  Mary Ann , de la Cruz,+442079460958,tiny\n"
        b"fresh@unregistered-domain-zz9.com,  Mary Ann , de la Cruz,+442079460958,tiny\n"
    )
    assert (stats.rows, stats.skipped, stats.dropped) == (2, 2, {"email_invalid": 2})


def test_google_keeps_gmail_plus_suffix_and_trims_names_keeping_inner_spaces() -> None:
    data, _ = _bytes("google_ads", [BASE])
    expected = ",".join(
        [
            sha("janedoe+news@gmail.com"),  # dots removed, +suffix kept, lowercase
            sha("+442079460958"),
            sha("mary ann"),
            sha("de la cruz"),
            "GB",
            "SW1A 1AA",
        ]
    )
    assert data == f"Email,Phone,First Name,Last Name,Country,Zip\n{expected}\n".encode()


def test_meta_sends_doby_gen_ct_st_normalised_when_known() -> None:
    row = {
        **BASE,
        "email": "Jane.Doe@GMail.com",
        "phone": "(650) 555-1212",
        "country": "US",
        "city": "San Francisco",
        "postal_code": "94105-1234",
        "birth_date": date(1984, 7, 3),
        "gender": "female",
        "state": "California",
    }
    unknown = {**row, "customer_key": "k2", "birth_date": None, "gender": "unknown", "state": "CA"}
    data, _ = _bytes("meta", [row, unknown])
    cells = [
        sha("jane.doe@gmail.com"),
        sha("16505551212"),
        sha("maryann"),
        sha("delacruz"),
        sha("sanfrancisco"),
        sha("94105"),
        sha("us"),
    ]
    first = ",".join([*cells, sha("1984"), sha("f"), sha("ca")])
    second = ",".join([*cells, "", "", sha("ca")])
    header = "email,phone,fn,ln,ct,zip,country,doby,gen,st"
    assert data == f"{header}\n{first}\n{second}\n".encode()
    # Without those columns in customer_targeting the file has the base columns only.
    plain, _ = _bytes("meta", [BASE])
    assert plain.split(b"\n")[0] == b"email,phone,fn,ln,ct,zip,country"


def test_salesforce_country_code_and_a_member_field_per_audience() -> None:
    data, _ = _bytes({"format": "salesforce", "external_id_field": "Ext__c"}, [BASE])
    assert data == (
        b"Ext__c,FirstName,LastName,Email,Phone,MailingCity,MailingPostalCode,"
        b"MailingCountryCode,Segmint_tiny__c\n"
        b"k1,  Mary Ann , de la Cruz,jane.doe+news@gmail.com,+442079460958,New York,"
        b"SW1A 1AA,GB,true\n"
    )
    removal, _ = _bytes("salesforce", [{"customer_key": "k1", "_erased": False}], removals=True)
    assert removal == b"Segmint_Customer_Key__c,Segmint_tiny__c,HasOptedOutOfEmail\nk1,false,\n"


def test_two_audiences_cannot_share_a_crm_member_field(tmp_path: Path) -> None:
    for name in ("one", "two"):
        write_yaml(
            tmp_path,
            name,
            {
                "name": name,
                "conditions": {"column": "monetary", "op": ">", "value": 0},
                "destinations": [{"format": "salesforce", "member_field": "Shared__c"}],
            },
        )
    _, problems = validate_audiences(tmp_path)
    assert any("'Shared__c' is already used by audience one" in p for p in problems)
    with pytest.raises(AudienceError, match="set member_field"):
        _audience("salesforce", name="a_name_that_is_far_too_long_for_a_salesforce_field")


def test_hubspot_removals_and_erasures_in_the_vendor_format() -> None:
    rows = [{"customer_key": "k1", "email": "Jane@Example.com", "_erased": False}]
    data, _ = _bytes("hubspot", rows, removals=True)
    assert data == b"Email,segmint_customer_key,segmint_tiny\njane@example.com,k1,false\n"
    erased = [{"customer_key": "k9", "_erased": True, "_erasure": json.dumps({"x": "y"})}]
    data, _ = _bytes("hubspot", erased, erasures=True)
    assert data == b'{"objectId":"k9","idProperty":"segmint_customer_key"}\n'


def test_mailchimp_removals_are_a_batch_of_tag_removals_and_permanent_deletes() -> None:
    rows = [
        {"customer_key": "k1", "email": " Jane@Example.com", "_erased": False},
        {
            "customer_key": "k9",
            "_erased": True,
            "_erasure": json.dumps({"email_md5": md5("gone@example.com")}),
        },
    ]
    dest = {"format": "mailchimp", "tags": ["vip", "win back"], "list_id": "abc123"}
    data, stats = _bytes(dest, rows, removals=True)
    tags = json.dumps(
        {"tags": [{"name": t, "status": "inactive"} for t in ("vip", "win back")]},
        separators=(",", ":"),
    )
    expected = {
        "operations": [
            {
                "method": "POST",
                "path": f"/lists/abc123/members/{md5('jane@example.com')}/tags",
                "body": tags,
                "operation_id": "k1",
            },
            {
                "method": "POST",
                "path": f"/lists/abc123/members/{md5('gone@example.com')}/actions/delete-permanent",
                "operation_id": "k9",
            },
        ]
    }
    assert data == (json.dumps(expected, indent=1) + "\n").encode()
    assert stats.rows == 2


# --------------------------------------------------------------------------- whole exports


def _files(result) -> dict[str, Path]:
    return {p.name.rsplit("__", 1)[1]: p for p in result.files}


def test_salesforce_full_mode_clears_members_who_left(con, tmp_path: Path) -> None:
    aud = audience_from_mapping(
        {
            "name": "sf_full",
            "conditions": {"column": "frequency", "op": ">=", "value": 3},
            "destinations": [{"format": "salesforce", "external_id_field": "Ext__c"}],
        },
        "sf_full.yml",
    )
    rows = make_rows()
    first = export_audience(con, aud, "salesforce", tmp_path, mode="full")
    leaver = next(
        r for r in rows if r["frequency"] >= 3 and r["marketing_consent"] and not r["is_erased"]
    )
    leaver["frequency"] = 0
    load_targeting(con, rows)
    second = export_audience(con, aud, "salesforce", tmp_path, mode="full")
    files = _files(second)
    assert files["removals.csv"].read_bytes() == (
        f"Ext__c,Segmint_sf_full__c,HasOptedOutOfEmail\n{leaver['customer_key']},false,\n".encode()
    )
    manifest = json.loads(second.manifest.read_text())
    assert manifest["replace_list"] is False  # an upsert cannot replace: removals instead
    job = {
        "object": "Contact",
        "operation": "upsert",
        "externalIdFieldName": "Ext__c",
        "contentType": "CSV",
        "columnDelimiter": "COMMA",
        "lineEnding": "LF",
    }
    assert [f["job"] for f in manifest["files"]] == [job, job]
    assert manifest["sent"] == {"members": first.exported - 1, "removals": 1}


def test_manifest_counters_equal_rows_in_the_files(con, tmp_path: Path) -> None:
    aud = audience_from_mapping(
        {
            "name": "counted",
            "conditions": {"column": "frequency", "op": ">=", "value": 3},
            "destinations": ["hubspot", "google_ads", "mailchimp"],
        },
        "counted.yml",
    )
    rows = make_rows()
    for dest in ("hubspot", "google_ads", "mailchimp"):
        export_audience(con, aud, dest, tmp_path, mode="delta")
    for r in rows[:30]:
        r["frequency"] = 0
    load_targeting(con, rows)
    for dest in ("hubspot", "google_ads", "mailchimp"):
        result = export_audience(con, aud, dest, tmp_path, mode="delta")
        manifest = json.loads(result.manifest.read_text())
        for entry in manifest["files"]:
            raw = (result.manifest.parent / entry["name"]).read_bytes()
            if entry["name"].endswith(".json"):
                rows_in_file = len(json.loads(raw)["operations"])
            else:
                rows_in_file = raw.count(b"\n") - 1
            assert rows_in_file == entry["rows"] == manifest["sent"][entry["role"]] > 0
            skipped = entry["skipped"]
            assert entry["rows"] + skipped == (
                manifest["counts"]["removed"]
                if entry["role"] == "removals"
                else manifest["counts"]["added"]
            )
        assert manifest["counts"]["removals_sent"] == manifest["sent"]["removals"]
