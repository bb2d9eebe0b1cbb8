"""#21: erasure reaches the vendor. The next export after `segmint forget` sends the
forgotten member's removal to every destination they were exported to (hashed identifiers
for the ad platforms, the vendor's delete / opt-out format for the CRMs, the key for plain
files), then drops the pending membership; the run after sends nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from segmint.activation import export_audience
from segmint.activation.audience import audience_from_mapping
from segmint.erasure import forget
from tests.conftest import make_settings
from tests.segmint.activation.data import load_targeting, make_rows

DESTINATIONS = ["google_ads", "meta", "salesforce", "hubspot", "mailchimp", "csv"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _files(result) -> dict[str, bytes]:
    return {p.name.rsplit("__", 1)[1]: p.read_bytes() for p in result.files}


def test_next_export_after_forget_sends_the_removal_then_forgets_the_membership(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, tmp_path / "landing")
    settings.warehouse.parent.mkdir(parents=True)
    aud = audience_from_mapping(
        {
            "name": "gone",
            "conditions": {"column": "frequency", "op": ">=", "value": 0},
            "destinations": [
                *DESTINATIONS[:4],
                {"format": "mailchimp", "list_id": "L1"},
                "csv",
            ],
        },
        "gone.yml",
    )
    rows = make_rows()
    with duckdb.connect(str(settings.warehouse)) as con:
        load_targeting(con, rows)
        for dest in DESTINATIONS:
            export_audience(con, aud, dest, settings.exports, mode="delta")
    person = next(r for r in rows if r["marketing_consent"] and not r["is_erased"])
    cid, key, i = person["customer_id"], person["customer_key"], int(person["customer_id"][1:])
    email, digits = f"user.{i}@example.com", f"1650555{i:04d}"

    report = forget(settings, customer_id=cid, live_runs=list)
    assert report.pending_removals == len(DESTINATIONS)

    with duckdb.connect(str(settings.warehouse)) as con:
        out = settings.exports
        sent = {d: export_audience(con, aud, d, out, mode="delta") for d in DESTINATIONS}
        left = con.execute(
            "select count(*) from activation.audience_membership where customer_id = ?", [cid]
        ).fetchone()[0]
        again = [export_audience(con, aud, d, out, mode="delta") for d in DESTINATIONS]

    for dest, result in sent.items():
        assert result.removed == result.removed_erased == 1, dest
        assert result.removals_sent == 1, dest
    files = {d: _files(r) for d, r in sent.items()}
    # Ad platforms: the hashes they hold (normalised as each specifies), no clear text.
    assert files["google_ads"]["removals.csv"] == (
        f"Email,Phone\n{sha(email)},{sha('+' + digits)}\n".encode()
    )
    assert files["meta"]["removals.csv"] == f"email,phone\n{sha(email)},{sha(digits)}\n".encode()
    # Salesforce: this audience's member flag off and Email Opt Out on, by external id.
    assert files["salesforce"]["removals.csv"] == (
        f"Segmint_Customer_Key__c,Segmint_gone__c,HasOptedOutOfEmail\n{key},false,true\n".encode()
    )
    # HubSpot: a GDPR delete request by the unique key property; no removals CSV row.
    assert files["hubspot"] == {
        "erasures.jsonl": f'{{"objectId":"{key}","idProperty":"segmint_customer_key"}}\n'.encode()
    }
    # Mailchimp: permanent delete of the member named by the MD5 of the address.
    md5 = hashlib.md5(email.encode()).hexdigest()
    batch = json.loads(files["mailchimp"]["removals.json"])
    assert batch == {
        "operations": [
            {
                "method": "POST",
                "path": f"/lists/L1/members/{md5}/actions/delete-permanent",
                "operation_id": key,
            }
        ]
    }
    assert files["csv"]["removals.csv"] == f"customer_key\n{key}\n".encode()
    for dest, data in files.items():
        for content in data.values():
            assert email.encode() not in content.lower() and digits.encode() not in content, dest
    # The pending memberships went with the removals; nothing is sent twice.
    assert left == 0
    assert all(r.removed == 0 and r.files == [] for r in again)
