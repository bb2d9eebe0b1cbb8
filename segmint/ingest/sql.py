"""Quoting for the SQL ingest builds: identifiers, literals, column definitions."""

from __future__ import annotations


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def column_defs(columns: list[tuple[str, str]]) -> str:
    """Column definitions for CREATE TABLE."""
    return ", ".join(f"{q(n)} {t}" for n, t in columns)
