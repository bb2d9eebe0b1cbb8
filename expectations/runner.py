"""Run a table's suite against the DuckDB warehouse (read-only) and summarise it by severity."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import duckdb
import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from expectations import SUITES
from expectations.common import Severity, SuiteContext, severity_of
from expectations.gx_duckdb import DuckDBDatasource, connection_string, engine_kwargs
from expectations.wording import label, observed_text
from segmint.privacy import PII_COLUMNS

# Rows of a failed row-query kept in its failure details.
UNEXPECTED_ROWS_SHOWN = 5

_DETAIL_KEYS = (
    "observed_value",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
    "partial_unexpected_list",
    "details",
)


class FailedExpectation(NamedTuple):
    """One failed expectation: what was expected, how severe, and what was observed."""

    expectation: str
    severity: Severity
    details: dict[str, Any]

    @property
    def observed(self) -> str:
        """What the data showed, in words ("12.5% of rows (40 of 320)", "observed 3")."""
        return observed_text(self.details)

    def line(self) -> str:
        """The expectation and what was observed, on one line."""
        return f"{self.expectation} — observed {self.observed}"


@dataclass
class ValidationOutcome:
    """Result of validating one table; ``blocking_failed`` means an ERROR check failed."""

    table: str
    success: bool
    blocking_failed: bool
    failed: list[FailedExpectation] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    docs_index: Path | None = None

    @property
    def errors(self) -> list[FailedExpectation]:
        """Failed ERROR (blocking) expectations."""
        return [f for f in self.failed if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[FailedExpectation]:
        """Failed WARN (annotating) expectations."""
        return [f for f in self.failed if f.severity is Severity.WARN]

    def summary(self) -> str:
        """Table, verdict and counts; then each failed expectation with what was observed."""
        verdict = "FAILED" if self.blocking_failed else ("WARN" if self.failed else "OK")
        s = self.statistics
        head = (
            f"{self.table}: {verdict} ({s.get('successful', 0)}/{s.get('evaluated', 0)} passed, "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s), "
            f"{s.get('row_count', 0)} rows)"
        )
        lines = [f"{f.severity}: {f.line()}" for f in self.failed]
        return "\n".join([head, *lines])

    def metadata(self) -> dict[str, Any]:
        """JSON-safe metadata for a Dagster asset check (wrap docs_index as a path/url)."""
        return {
            "table": self.table,
            "summary": self.summary(),
            "row_count": self.statistics.get("row_count"),
            "evaluated": self.statistics.get("evaluated"),
            "failed_errors": [f.line() for f in self.errors],
            "failed_warnings": [f.line() for f in self.warnings],
            "duration_s": self.statistics.get("duration_s"),
            "data_docs": str(self.docs_index) if self.docs_index else None,
        }


class WarehouseLockedError(RuntimeError):
    """The warehouse file is held by a writer in another process."""


def qualified_name(table: str) -> str:
    """A checked table's qualified name, from a qualified ("raw.orders") or bare ("orders") one."""
    if table in SUITES:
        return table
    matches = [name for name in SUITES if name.rsplit(".", 1)[-1] == table]
    if len(matches) != 1:
        raise KeyError(f"no suite for table {table!r}; checked tables: {', '.join(SUITES)}")
    return matches[0]


def resolve(table: str) -> ModuleType:
    """The module that builds a checked table's suite."""
    return import_module(SUITES[qualified_name(table)])


def build_suite(table: str, ctx: SuiteContext) -> gx.ExpectationSuite:
    """The ExpectationSuite of a checked table for a given context."""
    return resolve(table).build_suite(ctx)


def validate(
    warehouse: Path,
    table: str,
    *,
    docs_dir: Path | None = None,
    previous_row_count: int | None = None,
    now: datetime | None = None,
    history_dir: Path | None = None,
) -> ValidationOutcome:
    """Validate one table in DuckDB (read-only) with its GX suite, optionally writing Data Docs.

    ``previous_row_count`` sets the row-count drift bounds; with ``history_dir`` the count of
    the previous validation is read from (and this run's count written to) a small JSON file
    per table there when ``previous_row_count`` is not given.
    """
    started = time.perf_counter()
    table = qualified_name(table)
    module = resolve(table)
    now = _naive_utc(now or datetime.now(UTC))
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse not found: {warehouse}")
    if previous_row_count is None and history_dir is not None:
        previous_row_count = read_previous_row_count(history_dir, table)

    with _probe(warehouse) as con:
        read_only = con.read_only
        located = _locate(con, table)
        columns = _columns(con, *located) if located else {}
        row_count = _row_count(con, *located) if located else 0
        populated = _populated(con, *located, columns) if located else frozenset()

    if located is None:
        return _missing_table(table, started)
    schema, name = located
    qualified = table
    ctx = SuiteContext(
        table=qualified,
        now=now,
        previous_row_count=previous_row_count,
        columns=columns,
        populated=populated,
    )
    suite = module.build_suite(ctx)
    result, docs_index = _run_gx(warehouse, read_only, schema, name, suite, docs_dir, now)
    outcome = _outcome(qualified, suite, result, row_count, previous_row_count, started)
    outcome.docs_index = docs_index
    _fetch_unexpected_rows(warehouse, schema, name, outcome)
    if history_dir is not None:
        record_row_count(history_dir, table, row_count, now)
    return outcome


def read_previous_row_count(history_dir: Path, table: str) -> int | None:
    """Row count recorded by the previous validation of a table (None if never validated)."""
    path = Path(history_dir) / f"{table}.json"
    try:
        return int(json.loads(path.read_text())["row_count"])
    except (FileNotFoundError, KeyError, ValueError, TypeError):
        return None


def record_row_count(history_dir: Path, table: str, row_count: int, at: datetime) -> None:
    """Atomically record a table's validated row count for the next run's drift check."""
    history_dir = Path(history_dir)
    history_dir.mkdir(parents=True, exist_ok=True)
    path = history_dir / f"{table}.json"
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"table": table, "row_count": row_count, "at": at.isoformat()}))
    os.replace(tmp, path)


@contextmanager
def _probe(warehouse: Path) -> Iterator[_Probe]:
    """A short DuckDB connection, read-only unless this process already has it read-write."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        read_only = True
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        # This process holds the file read-write: share that instance, no new lock is taken.
        con = duckdb.connect(str(warehouse))
        read_only = False
    except duckdb.IOException as exc:
        raise WarehouseLockedError(
            f"cannot open {warehouse} read-only for validation (a writer holds it): {exc}"
        ) from exc
    try:
        yield _Probe(con, read_only)
    finally:
        con.close()


@dataclass
class _Probe:
    con: duckdb.DuckDBPyConnection
    read_only: bool

    def execute(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Run a query on the probe connection."""
        return self.con.execute(sql, params or [])


def _locate(probe: _Probe, table: str) -> tuple[str, str] | None:
    """(schema, table) of a qualified table name when it exists, or None."""
    schema, name = table.split(".", 1)
    (n,) = probe.execute(
        "select count(*) from information_schema.tables where table_catalog = "
        "current_database() and table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return (schema, name) if n else None


def _columns(probe: _Probe, schema: str, name: str) -> dict[str, str]:
    """Column -> DuckDB type of a table."""
    rows = probe.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = "
        "current_database() and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    return {c: t for c, t in rows}


def _fetch_unexpected_rows(warehouse: Path, schema: str, name: str, out: ValidationOutcome) -> None:
    """The first rows each failed row-query returned, so its failure says what was observed.

    GX returns those rows only with result_format COMPLETE, which would also return every
    unexpected value of every column check (millions on a large table); re-running the few
    failed queries (aggregates or short lists) costs less. Contact columns are masked: the
    rows end up in Dagster's event log.
    """
    queries = [(f, f.details.pop("query", None)) for f in out.failed]
    todo = [(f, q) for f, q in queries if q and "exception" not in f.details]
    if not todo:
        return
    with _probe(warehouse) as probe:
        for f, query in todo:
            sql = query.replace("{batch}", f'"{schema}"."{name}"')
            cur = probe.execute(f"select * from ({sql}) limit {UNEXPECTED_ROWS_SHOWN}")
            columns = [d[0] for d in cur.description]
            rows = [
                {
                    c: ("***" if c in PII_COLUMNS and v is not None else v)
                    for c, v in zip(columns, r, strict=True)
                }
                for r in cur.fetchall()
            ]
            f.details["details"] = {"unexpected_rows": _jsonable(rows)}


def _populated(probe: _Probe, schema: str, name: str, columns: dict[str, str]) -> frozenset[str]:
    """Columns with at least one non-null value (one scan, counts of every column)."""
    if not columns:
        return frozenset()
    counts = ", ".join(f'count("{c}")' for c in columns)
    values = probe.execute(f'select {counts} from "{schema}"."{name}"').fetchone()
    return frozenset(c for c, n in zip(columns, values, strict=True) if n)


def _row_count(probe: _Probe, schema: str, name: str) -> int:
    """Rows in a table."""
    (n,) = probe.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
    return int(n)


def _run_gx(
    warehouse: Path,
    read_only: bool,
    schema: str,
    name: str,
    suite: gx.ExpectationSuite,
    docs_dir: Path | None,
    now: datetime,
) -> tuple[Any, Path | None]:
    """Run the suite through a GX checkpoint on the DuckDB data source; build Data Docs."""
    context = gx.get_context(
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
        mode="ephemeral",
    )
    site_dir: Path | None = None
    actions: list[Any] = []
    if docs_dir is not None:
        site_dir = Path(docs_dir) / re.sub(r"[^A-Za-z0-9_.-]", "_", suite.name)
        shutil.rmtree(site_dir, ignore_errors=True)
        context.add_data_docs_site(
            site_name="segmint",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(site_dir),
                },
            },
        )
        actions.append(UpdateDataDocsAction(name="data_docs", site_names=["segmint"]))

    source: DuckDBDatasource = context.data_sources.add_segmint_duckdb(
        name="warehouse",
        connection_string=connection_string(str(warehouse)),
        kwargs=engine_kwargs(str(warehouse), read_only),
    )
    try:
        asset = source.add_table_asset(name=f"{schema}.{name}", table_name=name, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("whole_table")
        suite = context.suites.add(suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{suite.name}_checkpoint",
                validation_definitions=[definition],
                actions=actions,
                result_format="SUMMARY",
            )
        )
        run_id = RunIdentifier(run_name=f"{suite.name}-{now:%Y%m%dT%H%M%S}", run_time=now)
        checkpoint_result = checkpoint.run(run_id=run_id)
    finally:
        source.dispose()
    (result,) = checkpoint_result.run_results.values()
    index = site_dir / "index.html" if site_dir is not None else None
    return result, index if index is not None and index.exists() else None


def _outcome(
    table: str,
    suite: gx.ExpectationSuite,
    result: Any,
    row_count: int,
    previous_row_count: int | None,
    started: float,
) -> ValidationOutcome:
    """Fold GX results into failures by severity and statistics."""
    failed: list[FailedExpectation] = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = {k: _jsonable(r.result[k]) for k in _DETAIL_KEYS if k in (r.result or {})}
        query = (config.kwargs or {}).get("unexpected_rows_query")
        if query:
            details["query"] = query
        info = r.exception_info or {}
        if info.get("raised_exception"):
            details["exception"] = info.get("exception_message")
        else:
            for value in info.values():
                if isinstance(value, dict) and value.get("raised_exception"):
                    details["exception"] = value.get("exception_message")
                    break
        failed.append(FailedExpectation(label(config), severity_of(config), details))
    failed.sort(key=lambda f: (f.severity is not Severity.ERROR, f.expectation))
    stats = dict(result.statistics)
    evaluated = int(stats.get("evaluated_expectations", len(result.results)))
    statistics = {
        "evaluated": evaluated,
        "successful": evaluated - len(failed),
        "unsuccessful": len(failed),
        "success_percent": stats.get("success_percent"),
        "errors_failed": sum(f.severity is Severity.ERROR for f in failed),
        "warnings_failed": sum(f.severity is Severity.WARN for f in failed),
        "row_count": row_count,
        "previous_row_count": previous_row_count,
        "expectations": len(suite.expectations),
        "duration_s": round(time.perf_counter() - started, 3),
    }
    blocking = any(f.severity is Severity.ERROR for f in failed)
    return ValidationOutcome(
        table=table,
        success=not failed,
        blocking_failed=blocking,
        failed=failed,
        statistics=statistics,
    )


def _missing_table(table: str, started: float) -> ValidationOutcome:
    """Outcome for a table that does not exist: one blocking failure."""
    failure = FailedExpectation(
        "table_exists", Severity.ERROR, {"observed_value": f"{table} does not exist"}
    )
    return ValidationOutcome(
        table=table,
        success=False,
        blocking_failed=True,
        failed=[failure],
        statistics={
            "evaluated": 1,
            "successful": 0,
            "unsuccessful": 1,
            "errors_failed": 1,
            "warnings_failed": 0,
            "row_count": 0,
            "duration_s": round(time.perf_counter() - started, 3),
        },
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON-compatible copy (dates and decimals as text/numbers)."""
    return json.loads(json.dumps(value, default=str))


def _naive_utc(ts: datetime) -> datetime:
    """A naive UTC datetime (warehouse timestamps are naive UTC)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts
