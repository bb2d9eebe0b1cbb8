"""The raw tables of a DuckDB warehouse as a Parquet lake, for engines that read files.

Spark (segmint.spark) does not open a DuckDB file: it reads `<lake>/<schema>/<table>/` folders
of Parquet files registered as external tables. `export_raw` writes every table of the
schemas dbt reads as sources (raw and segmint's own `_segmint`, which holds the hash key's
pads) into such folders, one `data.parquet` each, typed as Spark reads them (JSON as text).
Each folder is replaced whole (write beside it, then rename), so a reader sees the previous
copy or the new one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from segmint.catalog import list_tables, table_columns

# Schemas whose tables dbt reads as sources (dbt_project/models/**/_*__sources.yml).
LAKE_SCHEMAS = ("raw", "_segmint")


def _select_list(columns: dict[str, str]) -> str:
    """Columns as Parquet types Spark reads: JSON is written as text."""
    exprs = []
    for name, dtype in columns.items():
        quoted = '"' + name.replace('"', '""') + '"'
        cast = dtype.upper() == "JSON"
        exprs.append(f"cast({quoted} as varchar) as {quoted}" if cast else quoted)
    return ", ".join(exprs)


def export_raw(warehouse: Path, lake: Path, schemas: tuple[str, ...] = LAKE_SCHEMAS) -> list[str]:
    """Write every table of `schemas` in the warehouse to <lake>/<schema>/<table>/data.parquet;
    returns the tables written as schema.table."""
    written = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for schema, table in list_tables(con, schemas, base_only=True):
            folder = lake / schema / table
            staging = folder.with_name(f".{table}.writing")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            columns = table_columns(con, schema, table)
            target = str(staging / "data.parquet").replace("'", "''")
            con.execute(
                f'copy (select {_select_list(columns)} from "{schema}"."{table}")'
                f" to '{target}' (format parquet)"
            )
            old = folder.with_name(f".{table}.old")
            shutil.rmtree(old, ignore_errors=True)
            if folder.exists():
                folder.rename(old)
            staging.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
            written.append(f"{schema}.{table}")
    finally:
        con.close()
    return written
