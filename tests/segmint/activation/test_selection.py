"""Selection: holdout, consent and erasure for random audiences, preview."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.activation import (
    export_audience,
    holdout_bucket,
    preview_audience,
)
from tests.segmint.activation.data import (
    RFM,
    audience,
    eligible,
    load_targeting,
    make_rows,
    read_csv,
)


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


def test_preview_masks_personal_data_and_changes_nothing(con) -> None:
    aud = audience(columns=["email", "monetary"])
    preview = preview_audience(con, aud, limit=5)
    assert preview.sample and all(s["email"] == "***" for s in preview.sample)
    assert preview.would_export == preview.members - preview.holdout
    tables = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'activation'"
    ).fetchone()
    assert tables == (0,)
