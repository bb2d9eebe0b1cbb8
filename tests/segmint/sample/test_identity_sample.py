"""The generator's identity material (#18): duplicate records that differ only in the
e-mail's case and spaces, guest checkouts, devices; the truth stays outside the contract."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmint.ingest.discovery import scan
from segmint.sample import generate
from segmint.sample.identity import TRUTH_FILE


def test_identity_sample_truth_is_never_ingested_and_duplicates_share_an_email(
    tmp_path: Path,
) -> None:
    generate(tmp_path, customers=300, days=120, seed=3, dirt_rate=0, identity=True, workers=1)
    found, ignored, _ = scan(tmp_path)
    assert tmp_path / TRUTH_FILE in ignored
    assert tmp_path / "customers" / "customers_identity.csv" in found["customers"]
    truth = pq.read_table(tmp_path / TRUTH_FILE).to_pandas()
    base = pacsv.read_csv(tmp_path / "customers" / "customers_000.csv").to_pandas()
    extra = pacsv.read_csv(tmp_path / "customers" / "customers_identity.csv").to_pandas()
    person = dict(zip(truth.identifier_value, truth.person, strict=True))
    email = dict(zip(base.customer_id, base.email.str.lower(), strict=True))
    dups = extra[extra.customer_id.str.startswith("C")]
    assert len(dups) > 0
    for cid, mail in zip(dups.customer_id, dups.email, strict=True):
        owner = f"C{int(person[cid]) + 1:07d}"
        assert mail.strip().lower() == email[owner]  # the same address, re-typed
    given = base.email.fillna("").str.lower()
    assert given[given != ""].is_unique  # distinct people, distinct mailboxes
    # generating again without identity removes the extra files and the truth
    generate(tmp_path, customers=300, days=120, seed=3, workers=1)
    assert not (tmp_path / TRUTH_FILE).exists()
    assert not (tmp_path / "customers" / "customers_identity.csv").exists()
