"""Great Expectations on DuckDB: a data source that keeps one persisted connection.

Why this module exists (GX 1.24 + duckdb-engine 0.17 + SQLAlchemy 2.1):

1. GX runs each metric query as ``with engine.connect() as c: result = c.execute(q)`` and
   calls ``result.fetchall()`` *after* the block. Closing a SQLAlchemy connection rolls back
   its transaction; duckdb-engine sends that ROLLBACK down the same DuckDB connection, which
   discards the pending result, so every metric comes back empty and GX fails with
   "list index out of range". GX avoids exactly this for sqlite, SQL Server, BigQuery and
   Databricks by keeping one persisted connection (``_PERSISTED_CONNECTION_DIALECTS``) on a
   ``StaticPool`` engine. DuckDB is not in that list, and an engine option alone cannot fix
   it (``StaticPool`` + ``pool_reset_on_return=None`` still rolls back on close).
2. duckdb-engine's reflection (inherited from the PostgreSQL dialect) queries
   ``pg_collation``/``regclass``, which DuckDB lacks under SQLAlchemy 2.1, so GX cannot read
   column names and types, and its fallback drops the schema name.

The fix uses GX's own extension point rather than a monkeypatch: a fluent data source type
(``segmint_duckdb``, registered by subclassing ``SQLDatasource``) whose execution engine
gives DuckDB the sqlite treatment (one persisted connection on a ``StaticPool`` engine) and
reads column metadata from ``information_schema``. ``tests/unit/test_expectations.py``
runs real metrics through it and fails loudly if a GX upgrade changes the behaviour.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any, Literal

import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

# With no dialect module for DuckDB, GX resolves expected type names on `sqlalchemy` itself
# (what we want) but logs a warning for every type expectation; keep that noise out.
logging.getLogger("great_expectations.expectations.type_comparison").setLevel(logging.ERROR)

DATASOURCE_TYPE = "segmint_duckdb"

# DuckDB type name (information_schema.columns.data_type) -> SQLAlchemy type class.
_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "VARCHAR": sa.VARCHAR,
    "BIGINT": sa.BIGINT,
    "HUGEINT": sa.BIGINT,
    "UBIGINT": sa.BIGINT,
    "INTEGER": sa.INTEGER,
    "UINTEGER": sa.INTEGER,
    "SMALLINT": sa.SMALLINT,
    "USMALLINT": sa.SMALLINT,
    "TINYINT": sa.SMALLINT,
    "UTINYINT": sa.SMALLINT,
    "DOUBLE": sa.DOUBLE,
    "FLOAT": sa.FLOAT,
    "DECIMAL": sa.DECIMAL,
    "BOOLEAN": sa.BOOLEAN,
    "DATE": sa.DATE,
    "TIME": sa.TIME,
    "TIMESTAMP": sa.TIMESTAMP,
    "TIMESTAMP_NS": sa.TIMESTAMP,
    "TIMESTAMP_MS": sa.TIMESTAMP,
    "TIMESTAMP_S": sa.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": sa.TIMESTAMP,
    "JSON": sa.JSON,
    "BLOB": sa.BLOB,
    "UUID": sa.UUID,
    "INTERVAL": sa.Interval,
}


def sqlalchemy_type(duckdb_type: str) -> sa.types.TypeEngine:
    """The SQLAlchemy type instance GX sees for a DuckDB column type name."""
    name = duckdb_type.upper().strip()
    if name == "TIMESTAMP WITH TIME ZONE":
        return sa.TIMESTAMP(timezone=True)
    base = re.sub(r"\(.*\)$", "", name).strip()
    cls = _TYPES.get(base)
    return cls() if cls is not None else sa.types.NullType()


class _InformationSchemaInspector:
    """The two inspector calls GX makes for column metadata, answered from DuckDB's catalog."""

    def __init__(self, engine: DuckDBExecutionEngine) -> None:
        self._engine = engine
        self.dialect = engine.engine.dialect

    def get_columns(self, table_name: str, schema: str | None = None, **_: Any) -> list[dict]:
        """Columns of a table in ordinal order, as SQLAlchemy reflection dicts."""
        query = sa.text(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_catalog = current_database() and table_name = :table "
            "and table_schema = coalesce(:schema, current_schema()) order by ordinal_position"
        )
        with self._engine.get_connection() as con:
            rows = con.execute(query, {"table": str(table_name), "schema": schema}).fetchall()
        if not rows:
            raise sa.exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return [
            {
                "name": name,
                "type": sqlalchemy_type(dtype),
                "nullable": nullable == "YES",
                "default": None,
            }
            for name, dtype, nullable in rows
        ]

    def get_pk_constraint(self, table_name: str, schema: str | None = None, **_: Any) -> dict:
        """No primary keys are declared on warehouse tables; keys are checked as data."""
        return {"constrained_columns": [], "name": None}

    def has_table(self, table_name: str, schema: str | None = None, **_: Any) -> bool:
        """Whether a table or view exists."""
        try:
            self.get_columns(table_name, schema)
        except sa.exc.NoSuchTableError:
            return False
        return True


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """SqlAlchemyExecutionEngine that keeps one persisted DuckDB connection, like sqlite."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("poolclass", sa.pool.StaticPool)
        super().__init__(*args, **kwargs)
        self._duckdb_inspector = _InformationSchemaInspector(self)

    @contextmanager
    def get_connection(self) -> Generator[sa.Connection, None, None]:
        """Yield the persisted connection (never closed between a query and its fetch)."""
        if self._connection is None or self._connection.closed:
            self._connection = self.engine.connect()
        yield self._connection

    def get_inspector(self) -> Any:
        """Column metadata from information_schema (duckdb-engine reflection fails on SA 2.1)."""
        return self._duckdb_inspector

    def close(self) -> None:
        """Close the persisted connection and dispose the engine."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        super().close()


class DuckDBDatasource(SQLDatasource):
    """GX fluent data source for a DuckDB file (``context.data_sources.add_segmint_duckdb``)."""

    type: Literal["segmint_duckdb"] = "segmint_duckdb"  # type: ignore[assignment]

    @property
    def execution_engine_type(self) -> type[SqlAlchemyExecutionEngine]:
        """The persisted-connection DuckDB engine."""
        return DuckDBExecutionEngine

    def dispose(self) -> None:
        """Close the execution engine's connection and the data source's own engine."""
        if self._execution_engine is not None:
            self._execution_engine.close()
            self._execution_engine = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def connection_string(path: str) -> str:
    """SQLAlchemy URL of a DuckDB file."""
    return f"duckdb:///{path}"


def engine_kwargs(path: str, read_only: bool = True) -> dict[str, Any]:
    """create_engine() options: plain DuckDB connections (no extra config) in the given mode.

    duckdb-engine adds a custom user agent to the connection config, and DuckDB refuses a
    second in-process connection to a file whose config differs from the open one. A
    creator that calls ``duckdb.connect(path, read_only=...)`` like the rest of segmint
    lets validation share an instance this process already has open.
    """
    return {"creator": functools.partial(_connect, path, read_only)}


def _connect(path: str, read_only: bool) -> ConnectionWrapper:
    """A DuckDB connection wrapped the way duckdb-engine's dialect expects."""
    return ConnectionWrapper(duckdb.connect(path, read_only=read_only))
