"""Audience definitions: validation against the real columns, dbt audiences, errors."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from segmint.activation import (
    AudienceError,
    compile_condition,
    export_audience,
    get_audience,
    load_audiences,
    load_dbt_audiences,
    preview_audience,
    targeting_columns,
    validate_audiences,
)
from tests.segmint.activation.data import (
    REPO,
    audience,
    eligible,
    ids_in,
    make_rows,
    write_yaml,
)


def test_shipped_audiences_validate_against_targeting_columns(con) -> None:
    audiences = load_audiences(REPO / "audiences", con)
    assert sorted(a.name for a in audiences) == [
        "champions_loyalty_offer",
        "new_customers_onboarding",
        "winback_at_risk_high_spenders",
    ]
    for aud in audiences:
        assert 0 < aud.holdout_share < 1 and aud.description
        preview = preview_audience(con, aud)
        assert preview.members > 0, aud.name  # each one selects somebody on the test data


def test_validation_errors_name_file_and_field(con, tmp_path: Path) -> None:
    base = {
        "name": "a",
        "conditions": {"all": [{"column": "frequency", "op": ">", "value": 1}]},
        "destinations": ["csv"],
    }
    write_yaml(
        tmp_path,
        "unknown_column",
        {
            **base,
            "name": "b",
            "conditions": {
                "all": [
                    {"column": "frequency", "op": ">", "value": 1},
                    {"column": "monetory", "op": ">", "value": 1},
                ]
            },
        },
    )
    write_yaml(
        tmp_path,
        "wrong_type",
        {
            **base,
            "name": "c",
            "conditions": {"any": [{"column": "monetary", "op": ">", "value": "lots"}]},
        },
    )
    write_yaml(
        tmp_path,
        "unknown_op",
        {
            **base,
            "name": "d",
            "conditions": {"not": {"column": "monetary", "op": "like", "value": 1}},
        },
    )
    write_yaml(tmp_path, "bad_yaml", "name: [unclosed\n")
    write_yaml(tmp_path, "bad_column_list", {**base, "name": "e", "columns": ["email", "ssn"]})
    write_yaml(
        tmp_path,
        "bool_order",
        {**base, "name": "f", "conditions": {"column": "is_vip", "op": "<", "value": True}},
    )
    write_yaml(
        tmp_path,
        "date_type",
        {
            **base,
            "name": "g",
            "conditions": {"column": "signup_date", "op": ">=", "value": "yesterday"},
        },
    )
    write_yaml(
        tmp_path,
        "misplaced_option",
        {**base, "name": "h", "destinations": [{"format": "csv", "on_remove": "flag"}]},
    )
    write_yaml(tmp_path, "good", base)
    write_yaml(tmp_path, "duplicate", base)
    valid, problems = validate_audiences(tmp_path, con)
    assert [a.name for a in valid] == ["a"]
    text = "\n".join(problems)
    expectations = [
        ("unknown_column.yml", "conditions.all[1].column: unknown column 'monetory'"),
        (
            "wrong_type.yml",
            "conditions.any[0].value: column 'monetary' is DOUBLE: expected a number",
        ),
        ("unknown_op.yml", "conditions.not.op: unknown op 'like'"),
        ("bad_yaml.yml", "not valid YAML"),
        ("bad_column_list.yml", "columns[1]: unknown column 'ssn'"),
        ("bool_order.yml", "conditions.op: op < does not apply to boolean column 'is_vip'"),
        ("date_type.yml", "conditions.value: column 'signup_date' is DATE: expected a date"),
        ("misplaced_option.yml", "destinations[0]: option(s) ['on_remove'] do not apply"),
        ("duplicate.yml", "name: 'a' is already used by"),
    ]
    for filename, fragment in expectations:
        assert any(filename in p and fragment in p for p in problems), (filename, text)
    with pytest.raises(AudienceError, match="unknown_column.yml"):
        load_audiences(tmp_path, con)
    with pytest.raises(AudienceError, match="unknown audience 'zzz'"):
        get_audience("zzz", tmp_path)


def test_date_and_timestamp_values_are_typed(con) -> None:
    aud = audience(
        conditions={
            "all": [
                {
                    "column": "signup_date",
                    "op": "between",
                    "value": ["2023-03-01", date(2023, 6, 30)],
                },
                {"column": "signup_at", "op": "<", "value": "2023-06-01T00:00:00"},
            ]
        }
    )
    rows = make_rows()
    expected = {
        r["customer_id"]
        for r in rows
        if date(2023, 3, 1) <= r["signup_date"] <= date(2023, 6, 30)
        and r["signup_at"] < datetime(2023, 6, 1)
    }
    where, params = compile_condition(aud.conditions, targeting_columns(con))
    got = {
        r[0]
        for r in con.execute(
            f"select customer_id from marts.customer_targeting t where {where}", params
        ).fetchall()
    }
    assert got == expected and got


def test_dbt_model_tagged_audience(con, tmp_path: Path) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create table marts.aud_big_spenders as select customer_id from marts.customer_targeting "
        "where monetary > 500"
    )
    manifest = {
        "nodes": {
            "model.segmint.aud_big_spenders": {
                "resource_type": "model",
                "name": "aud_big_spenders",
                "alias": "aud_big_spenders",
                "schema": "marts",
                "tags": ["audience"],
                "description": "Spent over 500",
                "config": {
                    "tags": ["audience"],
                    "meta": {"segmint": {"destinations": ["csv"], "columns": ["customer_id"]}},
                },
            },
            "model.segmint.other": {"resource_type": "model", "name": "other", "tags": []},
        }
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    (aud,) = load_dbt_audiences(path)
    assert aud.name == "aud_big_spenders" and aud.model == "marts.aud_big_spenders"
    result = export_audience(con, aud, "csv", tmp_path / "out", mode="full")
    expected = {r["customer_id"] for r in make_rows() if (r["monetary"] or 0) > 500 and eligible(r)}
    assert ids_in(result.files[0]) == expected


def test_get_audience_reports_the_broken_file(tmp_path: Path) -> None:
    write_yaml(tmp_path, "broken", {"name": "broken", "conditions": {"column": "x"}})
    write_yaml(tmp_path, "fine", {"name": "fine", "model": "marts.x", "destinations": ["csv"]})
    with pytest.raises(AudienceError) as err:
        get_audience("broken", tmp_path)
    assert "broken.yml: conditions.op: unknown op None" in str(err.value)
    assert get_audience("fine", tmp_path).model == "marts.x"
