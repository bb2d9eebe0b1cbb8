"""Conditions: injection strings are rejected or inert, values are bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmint.activation import (
    AudienceError,
    check_audience,
    compile_condition,
    export_audience,
    holdout_bucket,
    targeting_columns,
)
from tests.segmint.activation.data import (
    audience,
    eligible,
    make_rows,
    read_csv,
    table_count,
)

INJECTIONS = [
    "x'); DROP TABLE marts.customer_targeting; --",
    '" OR 1=1 --',
    "1; DELETE FROM activation.audience_runs",
    "') OR ('1'='1",
    'risk_band" = risk_band OR "1',
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_strings_are_rejected_or_inert(con, tmp_path: Path, evil: str) -> None:
    before = table_count(con, "marts.customer_targeting")
    rejected_fields = {
        "name": {"name": evil},
        "column": {"conditions": {"column": evil, "op": "=", "value": 1}},
        "op": {"conditions": {"column": "rfm_class", "op": evil, "value": "x"}},
        "columns": {"columns": [evil]},
        "destination name": {"destinations": [{"format": "csv", "name": evil}]},
        "destination format": {"destinations": [evil]},
        "postgres table": {"destinations": [{"format": "postgres", "table": evil}]},
        "postgres dsn_env": {"destinations": [{"format": "postgres", "dsn_env": evil}]},
        "salesforce field": {"destinations": [{"format": "salesforce", "field_map": {evil: "X"}}]},
        "salesforce ext id": {
            "destinations": [{"format": "salesforce", "external_id_field": evil}]
        },
    }
    for field, override in rejected_fields.items():
        with pytest.raises(AudienceError):
            aud = audience(**override)
            check = check_audience(aud, targeting_columns(con))
            if check:
                raise AudienceError(check)
            pytest.fail(f"{field} accepted {evil!r}")
    # Where text is legitimately free, it stays data: values, description, tags, salt.
    inert = audience(
        description=evil,
        conditions={
            "any": [
                {"column": "rfm_class", "op": "=", "value": evil},
                {"column": "risk_band", "op": "in", "value": [evil, "high"]},
                {"column": "rfm_class", "op": "not_in", "value": [evil]},
            ]
        },
        destinations=[{"format": "mailchimp", "tags": [evil.replace(",", ";")]}, "csv"],
    )
    where, params = compile_condition(inert.conditions, targeting_columns(con))
    assert evil not in where and params.count(evil) == 3
    result = export_audience(con, inert, "csv", tmp_path, mode="full", salt=evil)
    assert result.status == "success"
    assert table_count(con, "marts.customer_targeting") == before
    rows = make_rows()
    expected = {
        r["customer_id"]
        for r in rows
        if eligible(r)
        and (r["risk_band"] == "high" or r["rfm_class"] is not None)
        and holdout_bucket(r["customer_id"], inert.name, evil) >= inert.holdout_share
    }
    got = {r["customer_id"] for r in read_csv(result.files[0])}
    assert got == expected
    mailchimp = export_audience(con, inert, "mailchimp", tmp_path, mode="full", salt=evil)
    tags = {r["Tags"] for r in read_csv(mailchimp.files[0])}
    assert tags == {evil.replace(",", ";")}
    assert table_count(con, "activation.audience_runs") == 2
