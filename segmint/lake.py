"""The raw tables of a DuckDB warehouse as a Parquet lake, for engines that read files.

Spark (segmint.spark) does not open a DuckDB file: it reads `<lake>/<schema>/<table>/` folders
of Parquet files registered as external tables. `export_raw` writes every table dbt reads as a
source (the raw schema, segmint's own `_segmint` with the hash key's pads, the Python models'
`ml` outputs and the export state in `activation`) into such folders, one `data.parquet`
each, typed as Spark reads them (JSON as text). Each folder is replaced whole (write beside
it, then rename), so a reader sees the previous copy or the new one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from segmint.catalog import list_tables, table_columns

# Schemas whose tables dbt reads as sources (dbt_project/models/**/_*__sources.yml), and the
# source tables of schemas dbt also builds into (activation: the export state).
LAKE_SCHEMAS = ("raw", "_segmint", "ml")
LAKE_TABLES = (("activation", "audience_runs"), ("activation", "audience_run_members"))


def _select_list(columns: dict[str, str]) -> str:
    """Columns as Parquet types Spark reads: JSON is written as text."""
    exprs = []
    for name, dtype in columns.items():
        quoted = '"' + name.replace('"', '""') + '"'
        cast = dtype.upper() == "JSON"
        exprs.append(f"cast({quoted} as varchar) as {quoted}" if cast else quoted)
    return ", ".join(exprs)


def swap_folder(staging: Path, folder: Path) -> None:
    """Put `staging` in place of `folder` (renames: a reader sees the old or the new one)."""
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def export_raw(warehouse: Path, lake: Path, schemas: tuple[str, ...] = LAKE_SCHEMAS) -> list[str]:
    """Write every table of `schemas` (and those of LAKE_TABLES that exist) in the warehouse to
    <lake>/<schema>/<table>/data.parquet; returns the tables written as schema.table."""
    written = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        extra = sorted({s for s, _ in LAKE_TABLES})
        found = list_tables(con, schemas, base_only=True) + [
            pair for pair in list_tables(con, tuple(extra), base_only=True) if pair in LAKE_TABLES
        ]
        for schema, table in sorted(found):
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
            swap_folder(staging, folder)
            written.append(f"{schema}.{table}")
    finally:
        con.close()
    return written
