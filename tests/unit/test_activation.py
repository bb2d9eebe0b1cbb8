"""Activation: audience validation, injection, holdout, delta/full exports, consent, crashes."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.activation import (
    AudienceError,
    check_audience,
    compile_condition,
    export_audience,
    get_audience,
    holdout_bucket,
    load_audience_file,
    load_audiences,
    load_dbt_audiences,
    preview_audience,
    purge_erased,
    run_audience,
    targeting_columns,
    validate_audiences,
)
from segmint.activation import formats as formats_module
from segmint.activation.audience import audience_from_mapping
from segmint.activation.files import atomic_file

REPO = Path(__file__).resolve().parents[2]

TARGETING_TYPES = {
    "customer_id": "VARCHAR",
    "customer_key": "VARCHAR",
    "as_of_date": "DATE",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "city": "VARCHAR",
    "country": "VARCHAR",
    "postal_code": "VARCHAR",
    "marketing_consent": "BOOLEAN",
    "is_erased": "BOOLEAN",
    "monetary": "DOUBLE",
    "frequency": "BIGINT",
    "recency_days": "INTEGER",
    "tenure_days": "INTEGER",
    "rfm_monetary_score": "INTEGER",
    "rfm_class": "VARCHAR",
    "risk_band": "VARCHAR",
    "churn_probability": "DOUBLE",
    "acquisition_channel": "VARCHAR",
    "signup_date": "DATE",
    "signup_at": "TIMESTAMP",
    "is_vip": "BOOLEAN",
}
AS_OF = date(2024, 6, 30)
RFM = ["champions", "loyal_customers", "at_risk", "cant_lose", "new_customers", "lost"]
BANDS = ["low", "medium", "high", None]


def customer(i: int, rng: random.Random) -> dict[str, Any]:
    """One synthetic targeting row (erased rows have no contact data, like the mart)."""
    erased = i % 11 == 5
    consent = None if i % 13 == 0 else i % 4 != 0
    signup = date(2023, 1, 1) + timedelta(days=rng.randrange(540))
    row = {
        "customer_id": f"c{i:03d}",
        "customer_key": f"key{i:03d}",
        "as_of_date": AS_OF,
        "email": None if erased else f"User.{i}@Example.com",
        "phone": None if erased else f"(650) 555-{i:04d}",
        "first_name": None if erased else f"First{i}",
        "last_name": None if erased else f"Last{i}",
        "city": "Menlo Park",
        "country": "US",
        "postal_code": None if erased else "94025",
        "marketing_consent": consent,
        "is_erased": erased,
        "monetary": None if i % 9 == 0 else float(rng.randrange(0, 1000)),
        "frequency": rng.randrange(0, 12),
        "recency_days": rng.randrange(0, 400),
        "tenure_days": (AS_OF - signup).days,
        "rfm_monetary_score": rng.randrange(1, 6),
        "rfm_class": rng.choice(RFM),
        "risk_band": rng.choice(BANDS),
        "churn_probability": rng.random(),
        "acquisition_channel": rng.choice(["organic", "paid"]),
        "signup_date": signup,
        "signup_at": datetime(signup.year, signup.month, signup.day, 12),
        "is_vip": rng.random() < 0.3,
    }
    return row


def make_rows(n: int = 80, seed: int = 7) -> list[dict[str, Any]]:
    """n deterministic customers."""
    rng = random.Random(seed)
    return [customer(i, rng) for i in range(1, n + 1)]


def load_targeting(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """(Re)create marts.customer_targeting with the given rows."""
    con.execute("create schema if not exists marts")
    cols = ", ".join(f'"{c}" {t}' for c, t in TARGETING_TYPES.items())
    con.execute(f"create or replace table marts.customer_targeting ({cols})")
    marks = ", ".join("?" for _ in TARGETING_TYPES)
    con.executemany(
        f"insert into marts.customer_targeting values ({marks})",
        [[r[c] for c in TARGETING_TYPES] for r in rows],
    )


def eligible(row: dict[str, Any]) -> bool:
    """The rule the export path must enforce."""
    return bool(row["marketing_consent"]) and not row["is_erased"]


def audience(**overrides: Any):
    """A valid audience over the test table."""
    data: dict[str, Any] = {
        "name": "test_aud",
        "description": "test",
        "conditions": {"column": "frequency", "op": ">=", "value": 3},
        "columns": ["customer_id", "monetary"],
        "destinations": ["csv", "hubspot", "jsonl"],
        "holdout_share": 0.2,
    }
    data.update(overrides)
    return audience_from_mapping(data, "test_aud.yml")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    load_targeting(connection, make_rows())
    yield connection
    connection.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def table_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


# --------------------------------------------------------------------------- validation


def write_yaml(folder: Path, name: str, data: Any) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


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


# --------------------------------------------------------------------------- injection

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


# --------------------------------------------------------------------------- holdout


def test_holdout_is_deterministic_recorded_and_never_exported(con, tmp_path: Path) -> None:
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.3)
    result = export_audience(con, aud, "csv", tmp_path, mode="full", salt="pepper")
    rows = [r for r in make_rows() if eligible(r)]
    holdout = {
        r["customer_id"] for r in rows if holdout_bucket(r["customer_id"], aud.name, "pepper") < 0.3
    }
    assert 0 < len(holdout) < len(rows)
    assert result.holdout == len(holdout) and result.members == len(rows)
    exported = {r["customer_id"] for r in read_csv(result.files[0])}
    assert exported == {r["customer_id"] for r in rows} - holdout
    recorded = {
        r[0]
        for r in con.execute(
            "select customer_id from activation.audience_holdout where audience = ? and in_holdout",
            [aud.name],
        ).fetchall()
    }
    assert recorded == holdout
    # Sticky: a new share does not move already-assigned customers between groups.
    wider = audience(conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.9)
    again = export_audience(con, wider, "csv", tmp_path, mode="full", salt="pepper")
    assert {r["customer_id"] for r in read_csv(again.files[0])} == exported
    # Another audience gets an independent control group.
    other = audience(
        name="other_aud",
        conditions={"column": "frequency", "op": ">=", "value": 0},
        holdout_share=0.3,
    )
    res_other = export_audience(con, other, "csv", tmp_path, mode="full", salt="pepper")
    assert {r["customer_id"] for r in read_csv(res_other.files[0])} != exported


# --------------------------------------------------------------------------- delta / full


def ids_in(path: Path, column: str = "customer_id") -> set[str]:
    return {r[column] for r in read_csv(path)}


def test_delta_sends_adds_and_removes_and_rerun_sends_nothing(con, tmp_path: Path) -> None:
    rows = make_rows()
    aud = audience(holdout_share=0.0, conditions={"column": "frequency", "op": ">=", "value": 6})

    def members(data: list[dict[str, Any]]) -> set[str]:
        return {r["customer_id"] for r in data if r["frequency"] >= 6 and eligible(r)}

    first = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert ids_in(first.files[0]) == members(rows) and first.added == len(members(rows))
    assert read_csv(first.files[1]) == [] and first.removed == 0

    by_id = {r["customer_id"]: r for r in rows}
    current = sorted(members(rows))
    leaves, revokes, erased = current[0], current[1], current[2]
    joins = next(r["customer_id"] for r in rows if r["frequency"] < 6 and eligible(r))
    by_id[leaves]["frequency"] = 0
    by_id[revokes]["marketing_consent"] = False
    by_id[erased].update(is_erased=True, email=None, phone=None, first_name=None)
    by_id[joins]["frequency"] = 11
    load_targeting(con, rows)

    second = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert ids_in(second.files[0]) == {joins}
    assert second.added == 1 and second.removed == 3 and second.removed_erased == 1
    removal_keys = {r["customer_key"] for r in read_csv(second.files[1])}
    # Erased customers are never written, not even as a removal.
    assert removal_keys == {by_id[leaves]["customer_key"], by_id[revokes]["customer_key"]}
    manifest = json.loads(second.manifest.read_text())
    assert manifest["run_id"] == second.run_id and manifest["audience"] == aud.name
    assert manifest["counts"]["added"] == 1 and manifest["counts"]["removed"] == 3
    assert [f["role"] for f in manifest["files"]] == ["adds", "removals"]
    from segmint.activation.files import file_sha256

    for entry in manifest["files"]:
        assert file_sha256(second.manifest.parent / entry["name"]) == entry["sha256"]

    third = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert (third.exported, third.added, third.removed) == (0, 0, 0)
    assert read_csv(third.files[0]) == [] and read_csv(third.files[1]) == []
    status = dict(
        con.execute(
            "select status, count(*) from activation.audience_membership where audience = ? "
            "group by 1",
            [aud.name],
        ).fetchall()
    )
    assert status == {"active": len(members(rows)), "removed": 2}  # erased row deleted


def test_full_rerun_is_byte_identical_and_state_stable(con, tmp_path: Path) -> None:
    aud = audience(destinations=["hubspot"])
    one = export_audience(con, aud, "hubspot", tmp_path, mode="full")
    two = export_audience(con, aud, "hubspot", tmp_path, mode="full")
    assert one.checksum == two.checksum and one.files[0] != two.files[0]
    assert one.files[0].read_bytes() == two.files[0].read_bytes()
    assert (two.added, two.removed) == (0, 0) and two.exported == one.exported > 0
    delta = export_audience(con, aud, "hubspot", tmp_path, mode="delta")
    assert delta.exported == 0


def test_destinations_keep_separate_state(con, tmp_path: Path) -> None:
    aud = audience()
    export_audience(con, aud, "csv", tmp_path, mode="delta")
    first_hubspot = export_audience(con, aud, "hubspot", tmp_path, mode="delta")
    assert first_hubspot.added == first_hubspot.members - first_hubspot.holdout > 0


# --------------------------------------------------------------------------- consent property

_PROP_CON: duckdb.DuckDBPyConnection | None = None
_PROP_ROWS = make_rows(60, seed=11)


def prop_con() -> duckdb.DuckDBPyConnection:
    global _PROP_CON
    if _PROP_CON is None:
        _PROP_CON = duckdb.connect()
        load_targeting(_PROP_CON, _PROP_ROWS)
    return _PROP_CON


LEAF_VALUES = {
    "monetary": st.integers(-10, 1100),
    "frequency": st.integers(-1, 13),
    "risk_band": st.sampled_from(["low", "medium", "high", "zzz"]),
    "rfm_class": st.sampled_from([*RFM, "x"]),
    "signup_date": st.dates(date(2022, 12, 1), date(2024, 7, 1)),
    "is_vip": st.booleans(),
    "marketing_consent": st.booleans(),
    "is_erased": st.booleans(),
}


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    column = draw(st.sampled_from(sorted(LEAF_VALUES)))
    values = LEAF_VALUES[column]
    ops = ["=", "!=", "in", "not_in", "is_null", "not_null"]
    if column not in ("is_vip", "marketing_consent", "is_erased"):
        ops += ["<", "<=", ">", ">=", "between"]
    op = draw(st.sampled_from(ops))
    if op in ("is_null", "not_null"):
        return {"column": column, "op": op}
    if op in ("in", "not_in"):
        return {"column": column, "op": op, "value": draw(st.lists(values, min_size=1, max_size=3))}
    if op == "between":
        low, high = sorted([draw(values), draw(values)])
        return {"column": column, "op": op, "value": [low, high]}
    return {"column": column, "op": op, "value": draw(values)}


trees = st.recursive(
    leaf(),
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=6,
)


def evaluate(node: dict[str, Any], row: dict[str, Any]) -> bool:
    """Reference semantics: a predicate on null is false, except is_null / not_null."""
    if "all" in node:
        return all(evaluate(n, row) for n in node["all"])
    if "any" in node:
        return any(evaluate(n, row) for n in node["any"])
    if "not" in node:
        return not evaluate(node["not"], row)
    value, op = row[node["column"]], node["op"]
    if op == "is_null":
        return value is None
    if op == "not_null":
        return value is not None
    if value is None:
        return False
    target = node.get("value")
    return {
        "=": lambda: value == target,
        "!=": lambda: value != target,
        "<": lambda: value < target,
        "<=": lambda: value <= target,
        ">": lambda: value > target,
        ">=": lambda: value >= target,
        "in": lambda: value in target,
        "not_in": lambda: value not in target,
        "between": lambda: target[0] <= value <= target[1],
    }[op]()


_COUNTER = iter(range(10**9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, share=st.sampled_from([0.0, 0.25]), fmt=st.sampled_from(["jsonl", "hubspot"]))
def test_consent_and_erasure_hold_for_random_audiences(
    tree: dict[str, Any], share: float, fmt: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    con = prop_con()
    name = f"prop_{next(_COUNTER)}"
    aud = audience(
        name=name, conditions=tree, holdout_share=share, columns=["customer_id"], destinations=[fmt]
    )
    out = tmp_path_factory.mktemp("prop")
    result = export_audience(con, aud, fmt, out, mode="full", salt="s")
    matched = [r for r in _PROP_ROWS if evaluate(tree, r)]
    expected = {
        r["customer_id"]
        for r in matched
        if eligible(r) and holdout_bucket(r["customer_id"], name, "s") >= share
    }
    if fmt == "jsonl":
        lines = result.files[0].read_text().splitlines()
        got = {json.loads(line)["customer_id"] for line in lines}
    else:
        emails = {r["Email"] for r in read_csv(result.files[0])}
        got = {r["customer_id"] for r in _PROP_ROWS if r["email"] and r["email"].lower() in emails}
    forbidden = {r["customer_id"] for r in _PROP_ROWS if not eligible(r)}
    assert not got & forbidden
    assert got == expected
    assert result.members == sum(1 for r in matched if eligible(r))


# --------------------------------------------------------------------------- crashes


class Boom(RuntimeError):
    pass


def test_crash_mid_write_leaves_no_file_and_no_state(con, tmp_path: Path, monkeypatch) -> None:
    aud = audience(holdout_share=0.0)
    first = export_audience(con, aud, "csv", tmp_path, mode="delta")
    rows = make_rows()
    for r in rows:
        if r["frequency"] < 3:
            r["frequency"] = 3  # many new members for the next delta
    load_targeting(con, rows)
    membership_before = con.execute(
        "select * from activation.audience_membership order by customer_id"
    ).fetchall()
    files_before = sorted(p.name for p in (tmp_path / aud.name / "csv").iterdir())

    original = formats_module.iter_rows

    def exploding(table):
        for i, row in enumerate(original(table)):
            if i == 3:
                raise Boom("disk on fire")
            yield row

    monkeypatch.setattr(formats_module, "iter_rows", exploding)
    with pytest.raises(Boom):
        export_audience(con, aud, "csv", tmp_path, mode="delta")
    monkeypatch.undo()

    assert sorted(p.name for p in (tmp_path / aud.name / "csv").iterdir()) == files_before
    after = con.execute("select * from activation.audience_membership order by customer_id")
    assert after.fetchall() == membership_before
    statuses = [
        r[0]
        for r in con.execute(
            "select status from activation.audience_runs order by started_at, run_id"
        ).fetchall()
    ]
    assert statuses == ["success", "failed"]
    retry = export_audience(con, aud, "csv", tmp_path, mode="delta")
    assert retry.added > 0 and retry.added == len(ids_in(retry.files[0]))
    assert not ids_in(retry.files[0]) & ids_in(first.files[0])


def test_failure_after_files_are_placed_removes_them(con, tmp_path: Path, monkeypatch) -> None:
    aud = audience()
    import segmint.activation.export as export_module

    def failing_commit(*args: Any, **kwargs: Any) -> None:
        raise Boom("warehouse went away")

    monkeypatch.setattr(export_module, "_commit_state", failing_commit)
    with pytest.raises(Boom):
        export_audience(con, aud, "csv", tmp_path, mode="full")
    assert list((tmp_path / aud.name / "csv").iterdir()) == []
    assert table_count(con, "activation.audience_membership") == 0


def test_atomic_file_never_exposes_partial_content(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old complete file\n")
    with pytest.raises(Boom), atomic_file(target) as (fh, _info):
        fh.write(b"half a fi")
        raise Boom
    assert target.read_text() == "old complete file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import duckdb
    from segmint.activation import export_audience, load_audience_file
    from segmint.activation import formats

    db, audience_file, out, marker = sys.argv[1:5]
    original = formats.iter_rows

    def slow(table):
        for i, row in enumerate(original(table)):
            if i == 2:
                Path(marker).write_text("mid-write")
                time.sleep(120)
            yield row

    formats.iter_rows = slow
    con = duckdb.connect(db)
    export_audience(con, load_audience_file(Path(audience_file)), "hubspot", Path(out), "delta")
    """
)


def test_sigkill_during_export_leaves_no_partial_file(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    rows = make_rows()
    with duckdb.connect(str(db)) as setup:
        load_targeting(setup, rows)
    spec = {
        "name": "killed",
        "conditions": {"column": "frequency", "op": ">=", "value": 0},
        "destinations": ["hubspot"],
    }
    audience_file = write_yaml(tmp_path, "killed", spec)
    out = tmp_path / "exports"
    marker = tmp_path / "marker"
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(audience_file), str(out), str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "export never reached the write"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    folder = out / "killed" / "hubspot"
    visible = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    assert visible == []  # no export file and no manifest under a real name
    with duckdb.connect(str(db)) as con:
        assert table_count(con, "activation.audience_membership") == 0
        assert con.execute("select status from activation.audience_runs").fetchall() == [
            ("running",)
        ]
        result = export_audience(con, load_audience_file(audience_file), "hubspot", out, "delta")
        assert result.added == sum(1 for r in rows if eligible(r))
        assert sorted(
            r[0] for r in con.execute("select status from activation.audience_runs").fetchall()
        ) == ["abandoned", "success"]
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # the killed run's temp file was swept


# --------------------------------------------------------------------------- dbt audiences, misc


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


def test_preview_masks_personal_data_and_changes_nothing(con) -> None:
    aud = audience(columns=["email", "monetary"])
    preview = preview_audience(con, aud, limit=5)
    assert preview.sample and all(s["email"] == "***" for s in preview.sample)
    assert preview.would_export == preview.members - preview.holdout
    tables = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'activation'"
    ).fetchone()
    assert tables == (0,)


def test_purge_erased_drops_history_of_erased_customers(con, tmp_path: Path) -> None:
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0})
    export_audience(con, aud, "csv", tmp_path, mode="full")
    victim = next(r["customer_id"] for r in make_rows() if eligible(r))
    con.execute("create schema if not exists raw")
    con.execute("create table raw.erasure_ledger (customer_id_hash varchar, erased_at timestamp)")
    con.execute("insert into raw.erasure_ledger select sha256(?), now()", [victim])
    assert purge_erased(con) >= 1
    left = con.execute(
        "select count(*) from activation.audience_run_members where customer_id = ?", [victim]
    ).fetchone()
    assert left == (0,)


def ledger(con: duckdb.DuckDBPyConnection, *customer_ids: str) -> None:
    """Record customers in raw.erasure_ledger the way segmint forget does (sha256 hex)."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.erasure_ledger "
        "(customer_id_hash varchar, erased_at timestamp)"
    )
    for cid in customer_ids:
        con.execute("insert into raw.erasure_ledger select sha256(trim(?)), now()", [cid])


def activation_rows(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, int]:
    """Rows per activation table that name this customer."""
    out = {}
    for table in ("audience_membership", "audience_run_members", "audience_holdout"):
        n = table_count(con, f"activation.{table} where customer_id = '{customer_id}'")
        if n:
            out[table] = n
    return out


def test_ledger_is_enforced_even_when_targeting_does_not_flag_the_customer(
    con, tmp_path: Path
) -> None:
    # A stale or rebuilt customer_targeting (is_erased = false) must not put a ledgered
    # customer into a membership, a holdout group or a removal file.
    aud = audience(conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.5)
    rows = make_rows()
    held = [
        r["customer_id"]
        for r in rows
        if eligible(r) and holdout_bucket(r["customer_id"], aud.name, "s") < 0.5
    ]
    sent = [
        r["customer_id"]
        for r in rows
        if eligible(r) and holdout_bucket(r["customer_id"], aud.name, "s") >= 0.5
    ]
    first = export_audience(con, aud, "csv", tmp_path, mode="delta", salt="s")
    assert sent[0] in ids_in(first.files[0]) and first.removed == 0
    new_holdout, old_member = held[0], sent[0]
    later = next(
        r["customer_id"]
        for r in rows[::-1]
        if eligible(r)
        and holdout_bucket(r["customer_id"], aud.name, "s") < 0.5
        and r["customer_id"] != new_holdout
    )
    # `later` only matches from now on; it would be a brand-new holdout assignment.
    con.execute("delete from activation.audience_holdout where customer_id = ?", [later])
    con.execute("delete from activation.audience_membership where customer_id = ?", [later])
    con.execute("delete from activation.audience_run_members where customer_id = ?", [later])
    ledger(con, f" {old_member} ", later)

    preview = preview_audience(con, aud, salt="s")
    assert preview.excluded_erased == first.excluded_erased + 2
    second = export_audience(con, aud, "csv", tmp_path, mode="delta", salt="s")
    assert second.excluded_erased == first.excluded_erased + 2
    assert second.removed == 1 and second.removed_erased == 1
    assert read_csv(second.files[1]) == []  # an erased customer's identifiers are never sent
    assert old_member not in ids_in(second.files[0])
    assert activation_rows(con, later) == {}
    assert activation_rows(con, old_member) == {}  # removal processed: membership deleted
    assert activation_rows(con, new_holdout)  # everyone else keeps their state
    assert second.members == first.members - 2


def test_every_export_purges_leftover_state_of_ledgered_customers(con, tmp_path: Path) -> None:
    # State that names an erased customer (restored from an older backup, left by an
    # erasure that did not purge activation) is gone after the next export of any audience.
    everyone = audience(
        conditions={"column": "frequency", "op": ">=", "value": 0}, holdout_share=0.5
    )
    other = audience(name="other_aud", conditions={"column": "frequency", "op": ">=", "value": 0})
    export_audience(con, everyone, "csv", tmp_path, mode="full", salt="s")
    export_audience(con, other, "csv", tmp_path, mode="full", salt="s")
    victim = next(
        r["customer_id"]
        for r in make_rows()
        if eligible(r) and holdout_bucket(r["customer_id"], everyone.name, "s") < 0.5
    )
    before = activation_rows(con, victim)
    assert before["audience_holdout"] == 2 and before["audience_run_members"] == 2
    held = con.execute(
        "select in_holdout from activation.audience_membership where customer_id = ? "
        "and audience = ?",
        [victim, everyone.name],
    ).fetchall()
    assert held == [(True,)]
    ledger(con, victim)
    load_targeting(con, [r for r in make_rows() if r["customer_id"] != victim])
    export_audience(con, everyone, "csv", tmp_path, mode="delta", salt="s")
    # Every table is clean, the other audience's history included; only the exported
    # membership of other_aud waits for other_aud's next export to process the removal.
    left = con.execute(
        "select audience, status, in_holdout from activation.audience_membership "
        "where customer_id = ?",
        [victim],
    ).fetchall()
    assert left == [("other_aud", "active", False)]
    assert activation_rows(con, victim) == {"audience_membership": 1}
    export_audience(con, other, "csv", tmp_path, mode="delta", salt="s")
    assert activation_rows(con, victim) == {}
    holdout_total = table_count(con, "activation.audience_holdout")
    assert holdout_total == 2 * sum(1 for r in make_rows() if eligible(r)) - 2


def test_unknown_destination_and_missing_dsn_are_clear_errors(con, tmp_path: Path) -> None:
    aud = audience(destinations=["csv", {"format": "postgres", "dsn_env": "SEGMINT_TEST_NO_DSN"}])
    with pytest.raises(AudienceError, match="unknown format 'excel'"):
        export_audience(con, aud, "excel", tmp_path)
    os.environ.pop("SEGMINT_TEST_NO_DSN", None)
    with pytest.raises(AudienceError, match="SEGMINT_TEST_NO_DSN"):
        export_audience(con, aud, "postgres", tmp_path)
    assert load_audience_file(REPO / "audiences" / "champions_loyalty_offer.yml").destinations


def test_run_audience_exports_every_destination(con, tmp_path: Path) -> None:
    aud = audience(destinations=["csv", "hubspot", {"format": "jsonl", "name": "app_feed"}])
    results = run_audience(con, aud, tmp_path, mode="delta", salt="s")
    assert [r.destination for r in results] == ["csv", "hubspot", "app_feed"]
    assert all(r.status == "success" and r.manifest and r.manifest.exists() for r in results)
    meta = results[0].metadata()
    assert {"members", "holdout", "exported", "removed"} <= set(meta)
    assert meta["exported"] == results[0].members - results[0].holdout
    assert (tmp_path / aud.name / "app_feed").is_dir()


def test_get_audience_reports_the_broken_file(tmp_path: Path) -> None:
    write_yaml(tmp_path, "broken", {"name": "broken", "conditions": {"column": "x"}})
    write_yaml(tmp_path, "fine", {"name": "fine", "model": "marts.x", "destinations": ["csv"]})
    with pytest.raises(AudienceError) as err:
        get_audience("broken", tmp_path)
    assert "broken.yml: conditions.op: unknown op None" in str(err.value)
    assert get_audience("fine", tmp_path).model == "marts.x"
