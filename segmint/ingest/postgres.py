"""Ingest from an operational Postgres: dlt extracts, the landing contract loads.

dlt's sql_database source reads each configured table (incrementally by its cursor column,
dlt.sources.incremental) and its filesystem destination writes the rows as Parquet batch
files under ``<warehouse dir>/postgres/extract``; each batch then goes through the very
path a landed Parquet file takes (segmint.ingest.batches -> load._ingest_file: staging,
validation, quarantine with reasons, one raw.load_ledger row, one transaction).

Crash safety. dlt keeps its state (the cursors) in ``<warehouse dir>/postgres/dlt`` and in
the destination folder beside the batches, and advances it only with a completed load, so:
a crash inside dlt re-reads the same rows next time (dlt finishes or re-extracts the
package); a crash after dlt but before our commit leaves the batch file in place, and the
next ingest loads it; a crash after our commit but before the file is removed finds the
file's content hash in the ledger and skips it. Rows are neither lost nor loaded twice.

The DSN comes from an env var only; its password never reaches a message, a log line or a
file (dlt gets a SQLAlchemy engine, not the connection string).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.contract import TABLES
from segmint.ingest.report import IngestError, safe_message
from segmint.settings import PostgresSource

if TYPE_CHECKING:
    import sqlalchemy

PIPELINE_NAME = "segmint_postgres"
DATASET = "batches"


@dataclass(frozen=True)
class SourceConnection:
    """The source database's SQLAlchemy URL and a password-free label for messages."""

    url: sqlalchemy.URL
    password: str | None
    label: str

    def redact(self, text: str) -> str:
        """`text` as one safe line: no password, no e-mail or phone."""
        line = safe_message(text)
        if self.password:
            line = line.replace(self.password, "***")
        return line


def source_root(warehouse: Path) -> Path:
    """The folder of dlt's state and the pending batches, beside the warehouse file."""
    return Path(warehouse).parent / "postgres"


def batch_dir(warehouse: Path) -> Path:
    """Where dlt's filesystem destination writes one folder per contract table."""
    return source_root(warehouse) / "extract"


def connection(source: PostgresSource) -> SourceConnection:
    """The source DSN from its env var, parsed (libpq URI or key=value)."""
    import psycopg.conninfo
    import sqlalchemy

    dsn = os.environ.get(source.dsn_env, "").strip()
    if not dsn:
        raise IngestError(
            f"the source DSN is not set: export {source.dsn_env}="
            "postgresql://USER:PASSWORD@HOST:5432/DBNAME (settings key source.dsn_env)"
        )
    try:
        params: dict[str, Any] = dict(psycopg.conninfo.conninfo_to_dict(dsn))
    except psycopg.Error:
        # psycopg's message can quote the DSN: say only where it came from.
        raise IngestError(f"{source.dsn_env} is not a valid Postgres DSN") from None
    password = params.pop("password", None)
    user, host, port, dbname = (params.pop(k, None) for k in ("user", "host", "port", "dbname"))
    if host and (host.startswith("/") or "," in host):  # a socket folder, several hosts
        params["host"], host = host, None
    if port and not str(port).isdigit():  # several ports (libpq checks them on connect)
        params["port"], port = port, None
    url = sqlalchemy.URL.create(
        "postgresql+psycopg",
        username=user,
        password=password,
        host=host,
        port=int(port) if port else None,
        database=dbname,
        query={k: str(v) for k, v in params.items()},
    )
    where = f"{host or params.get('host') or 'localhost'}:{port or 5432}/{dbname or user or ''}"
    label = f"postgres {user + '@' if user else ''}{where}"
    return SourceConnection(url, password, label)


def engine(conn: SourceConnection) -> sqlalchemy.Engine:
    """A SQLAlchemy engine for the source (connects on first use, 10 s timeout)."""
    import sqlalchemy

    args: dict[str, Any] = {"connect_timeout": 10}
    return sqlalchemy.create_engine(conn.url, connect_args=args, pool_pre_ping=True)


def check_source(eng: sqlalchemy.Engine, source: PostgresSource, conn: SourceConnection) -> None:
    """Refuse before extracting: server unreachable, login refused, a table or a required
    column or cursor missing (a clear one-line message; nothing is read)."""
    import sqlalchemy

    problems: list[str] = []
    try:
        with eng.connect() as c:
            inspector = sqlalchemy.inspect(c)
            for name, spec in source.tables.items():
                table = spec.table or name
                where = f"{source.db_schema}.{table}"
                if not inspector.has_table(table, schema=source.db_schema):
                    problems.append(f"table {where} (for {name}) not found")
                    continue
                found = inspector.get_columns(table, schema=source.db_schema)
                cols = {col["name"].lower() for col in found}
                missing = [col for col in TABLES[name].required_columns if col not in cols]
                if missing:
                    problems.append(f"{where} lacks required column(s) {', '.join(missing)}")
                if spec.cursor and spec.cursor.lower() not in cols:
                    problems.append(f"{where} has no cursor column {spec.cursor}")
    except sqlalchemy.exc.DBAPIError as exc:
        reason = conn.redact(str(exc.orig) if exc.orig is not None else str(exc))
        raise IngestError(f"cannot read the source {conn.label}: {reason}") from None
    if problems:
        raise IngestError(f"source {conn.label}: {'; '.join(problems)}; nothing loaded")


def quiet_dlt() -> None:
    """Before anything of dlt runs: its own log lines (type coercion notes) stay out of the
    command's output, and its anonymous usage telemetry (on by default) stays off, so
    nothing leaves the machine. dlt reads its runtime settings once per process, when the
    first source or pipeline is built, from env vars (a user's own value wins)."""
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def dlt_source(eng: sqlalchemy.Engine, source: PostgresSource) -> Any:
    """dlt's sql_database source over the configured tables: each resource writes to its
    contract table's folder, incrementally by its cursor when it has one."""
    quiet_dlt()
    import dlt
    from dlt.sources.sql_database import sql_database

    by_source = {(spec.table or name): (name, spec) for name, spec in source.tables.items()}
    src = sql_database(
        eng,
        schema=source.db_schema,
        table_names=list(by_source),
        backend="pyarrow",
        defer_table_reflect=True,
    )
    for table, (name, spec) in by_source.items():
        hints: dict[str, Any] = {"table_name": name, "write_disposition": "append"}
        if spec.cursor:
            hints["incremental"] = dlt.sources.incremental(spec.cursor)
        src.resources[table].apply_hints(**hints)
    return src


def dlt_pipeline(warehouse: Path) -> Any:
    """The dlt pipeline: state under <warehouse dir>/postgres/dlt, Parquet batches in
    <warehouse dir>/postgres/extract/<dataset>/<contract table>/."""
    quiet_dlt()
    import dlt

    root = source_root(warehouse)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(root / "dlt"),
        destination=dlt.destinations.filesystem(bucket_url=str(batch_dir(warehouse))),
        dataset_name=DATASET,
    )


def extract(source: PostgresSource, warehouse: Path) -> None:
    """Check the source, then let dlt write the new rows of every table as batch files."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    conn = connection(source)
    eng = engine(conn)
    try:
        check_source(eng, source, conn)
        pipeline = dlt_pipeline(warehouse)
        try:
            pipeline.run(dlt_source(eng, source), loader_file_format="parquet")
        except PipelineStepFailed as exc:
            cause = exc.__cause__ or exc.exception
            reason = conn.redact(f"{type(cause).__name__}: {cause}")
            raise IngestError(
                f"reading {conn.label} failed in dlt's {exc.step} step ({reason}); the next "
                "ingest resumes from the last completed batch"
            ) from None
    finally:
        eng.dispose()
