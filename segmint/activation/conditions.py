"""Compile a condition tree to a parameterised SQL predicate.

Column names must be in the allowlist read from the real table and are quoted as
identifiers; every value is bound as a `?` parameter, never pasted into the SQL text.
A predicate on a null value is false (two-valued logic: `not` of it is true), except
is_null / not_null which test for null explicitly.
"""

from __future__ import annotations

from typing import Any

from segmint.activation.audience import (
    AllOf,
    AnyOf,
    AudienceError,
    Condition,
    NotOf,
    Predicate,
    check_predicate,
    coerce_value,
    column_kind,
)

_COMPARE = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def compile_condition(
    cond: Condition, schema: dict[str, str], alias: str = "t"
) -> tuple[str, list[Any]]:
    """(SQL boolean expression, parameters) for `cond` over columns `schema` of table `alias`."""
    params: list[Any] = []

    def predicate(pred: Predicate) -> str:
        problems = check_predicate(pred, schema)
        if problems:
            raise AudienceError(problems)
        kind = column_kind(schema[pred.column])
        assert kind is not None  # check_predicate refused unusable columns
        col = f"{alias}.{quote_ident(pred.column)}"
        op = pred.op
        if op == "is_null":
            return f"({col} is null)"
        if op == "not_null":
            return f"({col} is not null)"
        if op in _COMPARE:
            params.append(coerce_value(pred.value, kind))
            return f"coalesce({col} {_COMPARE[op]} ?, false)"
        if op in ("in", "not_in"):
            params.extend(coerce_value(v, kind) for v in pred.value)
            marks = ", ".join("?" for _ in pred.value)
            negate = "not " if op == "not_in" else ""
            return f"coalesce({col} {negate}in ({marks}), false)"
        if op == "between":
            params.extend(coerce_value(v, kind) for v in pred.value)
            return f"coalesce({col} between ? and ?, false)"
        raise AudienceError([f"{pred.path}.op: unknown op {op!r}"])

    def walk(node: Condition) -> str:
        if isinstance(node, Predicate):
            return predicate(node)
        if isinstance(node, NotOf):
            return f"(not {walk(node.item)})"
        joiner = " and " if isinstance(node, AllOf) else " or "
        assert isinstance(node, AllOf | AnyOf)
        return "(" + joiner.join(walk(item) for item in node.items) + ")"

    return walk(cond), params
