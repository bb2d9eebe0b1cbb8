"""The engine the pipeline's tables live on, behind one interface the assets call.

`WarehouseResource.engine_io()` returns one of these:

- `DuckDBEngine`: the working DuckDB file, exactly as before (orchestration.lib.io).
- `SparkEngine`: the dbt project's tables are Spark tables (dbt-spark, `method: session`,
  in this process), the raw tables a Parquet lake exported from the DuckDB file, which stays
  the store of what ingest and the exports write (raw, quarantine, the ledger, the hash key,
  the export state). The models read their input through Spark (Arrow, then the same pandas
  types as DuckDB's) and write their outputs as Parquet folders in the lake
  (`<lake>/ml/<table>/`, registered as `ml.<table>`), where the later dbt models find them.

Every asset that uses Spark runs in the process of the run (`segmint run` executes in
process), so dbt, the models and the forecast fan-out share one SparkSession and one JVM,
and the Derby metastore (which one JVM at a time may open) is never opened twice.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.lib import io
from segmint import lake
from segmint.errors import SegmintError

# Schemas of the DuckDB file the lake mirrors before each dbt step on Spark; ml.* is written
# to the lake by the models themselves (SparkEngine.write_tables), not copied from DuckDB.
MIRRORED_SCHEMAS = ("raw", "_segmint")


class DuckDBEngine:
    """The working DuckDB file: every table of the pipeline."""

    name = "duckdb"

    def __init__(self, path: str) -> None:
        self.path = path

    def read_frame(self, sql: str) -> pd.DataFrame:
        return io.read_frame(self.path, sql)

    def read_optional(self, schema: str, table: str, sql: str | None = None) -> pd.DataFrame | None:
        return io.read_optional(self.path, schema, table, sql)

    def write_tables(
        self, replace: dict[str, pd.DataFrame], append: dict[str, pd.DataFrame] | None = None
    ) -> dict[str, int]:
        return io.write_tables(self.path, replace, append)

    def before_dbt(self) -> None:
        """Nothing to do: dbt reads the same file."""

    def row_counts(self, tables: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Rows of each schema.table that exists (after dbt exits: it holds the file)."""
        counts: dict[tuple[str, str], int] = {}
        with duckdb.connect(self.path, read_only=True) as con:
            for schema, name in tables:
                try:
                    sql = f'select count(*) from "{schema}"."{name}"'
                    counts[(schema, name)] = int(con.execute(sql).fetchone()[0])
                except duckdb.Error:
                    continue
        return counts


def _arrow(frame: Any) -> Any:
    """A Spark DataFrame as a pyarrow Table (pyspark 4: toArrow; 3.5: the same, private).

    Spark's TIMESTAMP is an instant (Arrow: timestamp with the session's zone, UTC); as
    the naive UTC timestamp DuckDB's TIMESTAMP is, so both engines give the same dtype."""
    import pyarrow as pa

    to_arrow = getattr(frame, "toArrow", None) or frame._collect_as_arrow
    table = to_arrow()
    if isinstance(table, list):  # 3.5's _collect_as_arrow returns record batches
        table = (
            pa.Table.from_batches(table)
            if table
            else pa.Table.from_pandas(frame.limit(0).toPandas(), preserve_index=False)
        )
    naive = pa.schema(
        [
            f.with_type(pa.timestamp(f.type.unit))
            if pa.types.is_timestamp(f.type) and f.type.tz
            else f
            for f in table.schema
        ]
    )
    return table.cast(naive) if naive != table.schema else table


def _spark_columns(relation: duckdb.DuckDBPyRelation) -> str:
    """The select list writing `relation` as Parquet types Spark reads: pandas' nanosecond
    timestamps as microseconds (Spark refuses TIMESTAMP(NANOS))."""
    exprs = []
    for name, dtype in zip(relation.columns, relation.types, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        kind = str(dtype).upper()
        if kind == "TIMESTAMP_NS":
            exprs.append(f"cast({quoted} as timestamp) as {quoted}")
        elif kind == "TIMESTAMP WITH TIME ZONE":
            exprs.append(f"cast({quoted} at time zone 'UTC' as timestamp) as {quoted}")
        else:
            exprs.append(quoted)
    return ", ".join(exprs)


class SparkEngine:
    """Spark tables (dbt-built, under <spark dir>/tables) and the Parquet lake (raw, ml)."""

    name = "spark"

    def __init__(self, path: str, spark_dir: str) -> None:
        self.path = path
        self.spark_dir = Path(spark_dir)
        self.lake = self.spark_dir / "lake"

    @property
    def session(self) -> Any:
        """The process's SparkSession (started on first use, shared with dbt-spark)."""
        from segmint import spark

        return spark.session(self.spark_dir)

    def read_frame(self, sql: str) -> pd.DataFrame:
        """A query's rows as pandas with DuckDB's types (Arrow from Spark, then DuckDB's
        conversion: decimals as float64, dates as datetime64), so a model sees the same
        frame on both engines. Customer- or series-level tables only: it is collected."""
        rows = _arrow(self.session.sql(sql))
        with duckdb.connect() as con:
            return con.from_arrow(rows).df()

    def exists(self, schema: str, table: str) -> bool:
        return bool(self.session.catalog.tableExists(f"`{schema}`.`{table}`"))

    def read_optional(self, schema: str, table: str, sql: str | None = None) -> pd.DataFrame | None:
        if not self.exists(schema, table):
            return None
        return self.read_frame(sql or f"select * from `{schema}`.`{table}`")

    def _lake_frame(self, folder: Path) -> pd.DataFrame | None:
        if not folder.is_dir():
            return None
        files = str(folder / "*.parquet").replace("'", "''")
        with duckdb.connect() as con:
            return con.execute(f"select * from read_parquet('{files}')").df()

    def write_tables(
        self, replace: dict[str, pd.DataFrame], append: dict[str, pd.DataFrame] | None = None
    ) -> dict[str, int]:
        """Each table as one Parquet file in its lake folder, then registered in Spark.

        All folders are written beside their tables first and swapped in after every one
        was written, so a failed write changes nothing; an appended table (ml.model_runs)
        is rewritten with its earlier rows (`union by name`: a column added later is null
        in earlier rows, as DuckDB's `insert by name` leaves it)."""
        counts: dict[str, int] = {}
        staged: list[tuple[Path, Path]] = []
        try:
            for name, frame in {**replace, **(append or {})}.items():
                schema, table = name.split(".")
                folder = self.lake / schema / table
                new = io.jsonable(frame)  # noqa: F841 - referenced by name in SQL
                earlier = None if name in replace else self._lake_frame(folder)  # noqa: F841
                staging = folder.with_name(f".{table}.writing")
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                staged.append((staging, folder))
                target = str(staging / "data.parquet").replace("'", "''")
                rows = "new" if earlier is None else "(from earlier union all by name from new)"
                with duckdb.connect() as con:
                    columns = _spark_columns(con.sql(f"select * from {rows}"))
                    query = f"select {columns} from {rows}"
                    con.execute(f"copy ({query}) to '{target}' (format parquet)")
                counts[name] = len(frame)
        except BaseException:
            for staging, _ in staged:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        for staging, folder in staged:
            lake.swap_folder(staging, folder)
            self._register_table(folder)
        return counts

    def _register_table(self, folder: Path) -> None:
        """ml.<table> as an external table over its (rewritten) lake folder."""
        schema, name = f"`{folder.parent.name}`", f"`{folder.parent.name}`.`{folder.name}`"
        location = folder.resolve().as_uri().replace("'", "\\'")
        self.session.sql(f"create database if not exists {schema}")
        self.session.sql(f"drop table if exists {name}")
        self.session.sql(f"create table {name} using parquet location '{location}'")

    def register(self) -> list[str]:
        """External tables over every lake folder (raw, _segmint, ml, activation)."""
        from segmint import spark

        return spark.register_lake(self.session, self.lake) if self.lake.is_dir() else []

    def before_dbt(self) -> None:
        """Mirror the DuckDB file's raw tables, the hash key's pads and the export state to
        the lake and register them, so dbt-spark reads this run's data."""
        if not Path(self.path).exists():
            raise SegmintError(f"no warehouse at {self.path}: ingest first")
        lake.export_raw(Path(self.path), self.lake, schemas=MIRRORED_SCHEMAS)
        self.register()

    def row_counts(self, tables: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for schema, name in tables:
            if self.exists(schema, name):
                counts[(schema, name)] = int(self.session.table(f"`{schema}`.`{name}`").count())
        return counts

    def copy_to_duckdb(self, con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
        """Replace schema.table in a DuckDB connection with the Spark table's rows (the
        exports and the quality checks read DuckDB); returns its row count."""
        if not self.exists(schema, table):
            raise SegmintError(f"{schema}.{table} is not built on Spark yet: run the dbt step")
        rows = con.from_arrow(_arrow(self.session.table(f"`{schema}`.`{table}`")))
        con.execute(f'create schema if not exists "{schema}"')
        con.register("_spark_rows", rows)
        con.execute(f'create or replace table "{schema}"."{table}" as select * from _spark_rows')
        con.unregister("_spark_rows")
        return int(con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])


Engine = DuckDBEngine | SparkEngine
