"""What a DuckDB connection holds: tables and their columns (information_schema, one place)."""

from __future__ import annotations

import duckdb


def list_tables(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], base_only: bool = False
) -> list[tuple[str, str]]:
    """(schema, table) pairs of the tables (and views, unless base_only) in `schemas`, sorted."""
    marks = ",".join("?" for _ in schemas)
    kind = "and table_type = 'BASE TABLE'" if base_only else ""
    rows = con.execute(
        f"""
        select table_schema, table_name from information_schema.tables
        where table_catalog = current_database() and table_schema in ({marks}) {kind}
        order by 1, 2
        """,
        list(schemas),
    ).fetchall()
    return [(s, t) for s, t in rows]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether schema.table exists (a table or a view)."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of schema.table, in ordinal order ({} when it is missing)."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows}
