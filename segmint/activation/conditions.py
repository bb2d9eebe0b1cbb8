"""Audience conditions: a tree of all / any / not over predicates {column, op, value}.

parse_condition turns the YAML structure into the tree (every problem names its path in the
file); check_predicate checks a predicate against the real columns and types of
customer_targeting; compile_condition turns a tree into a parameterised SQL predicate.

Column names must be in the allowlist read from the real table and are quoted as
identifiers; every value is bound as a `?` parameter, never pasted into the SQL text.
A predicate on a null value is false (two-valued logic: `not` of it is true), except
is_null / not_null which test for null explicitly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from segmint.activation.targeting import TARGETING, AudienceError

OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null", "not_null")
ORDERING_OPS = frozenset({"<", "<=", ">", ">=", "between"})
MAX_DEPTH = 16


@dataclass(frozen=True)
class Predicate:
    """{column, op, value}; `path` is where it sits in the file (for messages)."""

    column: str
    op: str
    value: Any
    path: str


@dataclass(frozen=True)
class AllOf:
    """Every child condition holds."""

    items: tuple[Condition, ...]
    path: str


@dataclass(frozen=True)
class AnyOf:
    """At least one child condition holds."""

    items: tuple[Condition, ...]
    path: str


@dataclass(frozen=True)
class NotOf:
    """The child condition does not hold."""

    item: Condition
    path: str


Condition = Predicate | AllOf | AnyOf | NotOf

_SCALARS = (str, int, float, bool, date, datetime)


def _check_scalar(value: Any, where: str) -> None:
    if not isinstance(value, _SCALARS):
        raise ValueError(f"{where}: expected a single value, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value!r} is not a finite number")


def parse_condition(raw: Any, path: str = "conditions", depth: int = 0) -> Condition:
    """Turn the YAML structure into a condition tree; ValueError('<path>: ...') when malformed."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{path}: conditions nest deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict):
        raise ValueError(
            f"{path}: expected a mapping with all / any / not or column / op / value, "
            f"got {type(raw).__name__}"
        )
    keys = set(raw)
    for group, cls in (("all", AllOf), ("any", AnyOf)):
        if group in keys:
            if keys != {group}:
                raise ValueError(
                    f"{path}: '{group}' cannot be combined with {sorted(keys - {group})}"
                )
            items = raw[group]
            if not isinstance(items, list) or not items:
                raise ValueError(f"{path}.{group}: expected a non-empty list of conditions")
            return cls(
                tuple(
                    parse_condition(item, f"{path}.{group}[{i}]", depth + 1)
                    for i, item in enumerate(items)
                ),
                path,
            )
    if "not" in keys:
        if keys != {"not"}:
            raise ValueError(f"{path}: 'not' cannot be combined with {sorted(keys - {'not'})}")
        return NotOf(parse_condition(raw["not"], f"{path}.not", depth + 1), path)
    unknown = keys - {"column", "op", "value"}
    if unknown:
        raise ValueError(
            f"{path}: unknown key(s) {sorted(map(str, unknown))}; expected all / any / not or "
            "column / op / value"
        )
    column, op = raw.get("column"), raw.get("op")
    if not isinstance(column, str) or not column:
        raise ValueError(f"{path}.column: required (a column of {TARGETING})")
    if op not in OPS:
        raise ValueError(f"{path}.op: unknown op {op!r}; expected one of {', '.join(OPS)}")
    value = raw.get("value")
    where = f"{path}.value"
    if op in ("is_null", "not_null"):
        if value is not None:
            raise ValueError(f"{where}: op {op} takes no value")
    elif op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{where}: op {op} needs a non-empty list")
        for i, item in enumerate(value):
            _check_scalar(item, f"{where}[{i}]")
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"{where}: op between needs a list [low, high]")
        for i, item in enumerate(value):
            _check_scalar(item, f"{where}[{i}]")
    else:
        if value is None:
            raise ValueError(f"{where}: op {op} needs a value (use is_null / not_null for nulls)")
        _check_scalar(value, where)
    return Predicate(column, op, value, path)


def iter_predicates(cond: Condition) -> list[Predicate]:
    """Every predicate of a tree, left to right."""
    if isinstance(cond, Predicate):
        return [cond]
    if isinstance(cond, NotOf):
        return iter_predicates(cond.item)
    return [p for item in cond.items for p in iter_predicates(item)]


# --------------------------------------------------------------------------- column types


def column_kind(duckdb_type: str) -> str | None:
    """number / text / boolean / date / timestamp for a DuckDB type name; None if unusable."""
    t = duckdb_type.upper().strip()
    if t.startswith(("DECIMAL", "NUMERIC")) or t in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "INT",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "REAL",
        "DOUBLE",
    }:
        return "number"
    if t in {"VARCHAR", "TEXT", "STRING"} or t.startswith(("VARCHAR(", "CHAR")):
        return "text"
    if t in {"BOOLEAN", "BOOL"}:
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return "timestamp"
    return None


def coerce_value(value: Any, kind: str) -> Any:
    """The value as bound for a column of `kind`; ValueError when it does not fit."""
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
        return value
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__} {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {type(value).__name__} {value!r}")
        return value
    if kind == "date":
        if isinstance(value, datetime):
            raise ValueError(f"expected a date (YYYY-MM-DD), got a timestamp {value!r}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"expected a date (YYYY-MM-DD), got {type(value).__name__} {value!r}")
    if kind == "timestamp":
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"expected a timestamp (ISO 8601), got {type(value).__name__} {value!r}")
    raise ValueError(f"columns of this kind ({kind}) cannot be used in conditions")


def check_predicate(pred: Predicate, schema: dict[str, str]) -> list[str]:
    """Problems of one predicate against the table's columns (empty list when fine)."""
    if pred.column not in schema:
        return [f"{pred.path}.column: unknown column {pred.column!r} of {TARGETING}"]
    col_type = schema[pred.column]
    kind = column_kind(col_type)
    if kind is None:
        return [f"{pred.path}.column: column {pred.column!r} ({col_type}) cannot be filtered on"]
    if kind == "boolean" and pred.op in ORDERING_OPS:
        return [f"{pred.path}.op: op {pred.op} does not apply to boolean column {pred.column!r}"]
    if pred.op in ("is_null", "not_null"):
        return []
    values = pred.value if isinstance(pred.value, list) else [pred.value]
    problems = []
    for i, value in enumerate(values):
        where = f"{pred.path}.value" + (f"[{i}]" if isinstance(pred.value, list) else "")
        try:
            coerce_value(value, kind)
        except ValueError as exc:
            problems.append(f"{where}: column {pred.column!r} is {col_type}: {exc}")
    if not problems and pred.op == "between":
        low, high = (coerce_value(v, kind) for v in pred.value)
        if low > high:
            problems.append(f"{pred.path}.value: between needs low <= high, got {pred.value!r}")
    return problems


# --------------------------------------------------------------------------- SQL

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
