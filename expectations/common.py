"""Building blocks shared by the suites: severities, suite context and expectation helpers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import great_expectations as gx
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

from segmint.contract import FUTURE_SKEW_HOURS, RAW_META_COLUMNS, Table

E = gx.expectations


class Severity(StrEnum):
    """ERROR blocks publish; WARN annotates the run."""

    ERROR = "ERROR"
    WARN = "WARN"


_GX_SEVERITY = {Severity.ERROR: FailureSeverity.CRITICAL, Severity.WARN: FailureSeverity.WARNING}


def severity_of(expectation: Any) -> Severity:
    """The segmint severity recorded on an expectation (or its configuration)."""
    meta = getattr(expectation, "meta", None) or {}
    if meta.get("severity") in (Severity.ERROR, Severity.WARN):
        return Severity(meta["severity"])
    gx_severity = getattr(expectation, "severity", FailureSeverity.CRITICAL)
    return Severity.WARN if gx_severity != FailureSeverity.CRITICAL else Severity.ERROR


@dataclass(frozen=True)
class SuiteContext:
    """What a suite may depend on: the table, the clock, the previous run and actual columns."""

    table: str  # qualified name, e.g. "raw.orders"
    now: datetime  # naive UTC, like every warehouse timestamp
    previous_row_count: int | None = None
    columns: dict[str, str] = field(default_factory=dict)  # actual column -> DuckDB type
    # Columns with at least one non-null value (None: not measured, every column counts).
    populated: frozenset[str] | None = None

    @property
    def future_limit(self) -> datetime:
        """Latest acceptable timestamp: now plus the contract's clock skew."""
        return self.now + timedelta(hours=FUTURE_SKEW_HOURS)

    @property
    def today(self) -> date:
        """Today's date in UTC."""
        return self.now.date()

    def has(self, column: str) -> bool:
        """Whether the validated table has this column."""
        return column in self.columns

    def is_populated(self, column: str) -> bool:
        """Whether the column holds any value (an optional column a shop does not export is
        loaded as all-null: its null rate says nothing about data quality)."""
        return self.populated is None or column in self.populated


def expect(cls: type[Expectation], severity: Severity, why: str, **kwargs: Any) -> Expectation:
    """An expectation tagged with its severity (GX's own field and meta) and its reason."""
    meta = {"severity": str(severity), "why": why}
    return cls(severity=_GX_SEVERITY[severity], meta=meta, description=why, **kwargs)


def error(cls: type[Expectation], why: str, **kwargs: Any) -> Expectation:
    """A blocking expectation."""
    return expect(cls, Severity.ERROR, why, **kwargs)


def warn(cls: type[Expectation], why: str, **kwargs: Any) -> Expectation:
    """An annotating expectation."""
    return expect(cls, Severity.WARN, why, **kwargs)


def suite(ctx: SuiteContext, expectations: Iterable[Expectation]) -> gx.ExpectationSuite:
    """An ExpectationSuite named after the table."""
    return gx.ExpectationSuite(
        name=ctx.table, expectations=list(expectations), meta={"table": ctx.table}
    )


def row_count_bounds(
    ctx: SuiteContext,
    *,
    min_ratio: float = 0.5,
    max_ratio: float = 3.0,
    severity: Severity = Severity.WARN,
) -> list[Expectation]:
    """Row count within [min_ratio, max_ratio] x the previous run's count (WARN by default)."""
    prev = ctx.previous_row_count
    if prev is None or prev <= 0:
        return []
    return [
        expect(
            E.ExpectTableRowCountToBeBetween,
            severity,
            f"row count within {min_ratio:g}x..{max_ratio:g}x of the previous run ({prev})",
            min_value=math.floor(prev * min_ratio),
            max_value=math.ceil(prev * max_ratio),
        )
    ]


def not_empty(severity: Severity, why: str) -> Expectation:
    """At least one row."""
    return expect(E.ExpectTableRowCountToBeBetween, severity, why, min_value=1)


def columns_present(columns: Sequence[str], severity: Severity = Severity.ERROR) -> Expectation:
    """Every listed column exists (others may exist too)."""
    return expect(
        E.ExpectTableColumnsToMatchSet,
        severity,
        "required columns present",
        column_set=list(columns),
        exact_match=False,
    )


def columns_exactly(columns: Sequence[str], severity: Severity = Severity.WARN) -> Expectation:
    """No columns beyond the listed ones."""
    return expect(
        E.ExpectTableColumnsToMatchSet,
        severity,
        "no unexpected columns",
        column_set=list(columns),
        exact_match=True,
    )


# Generic SQLAlchemy type families (isinstance checks in GX) for dbt- and Python-built tables.
INTEGER = "Integer"
NUMERIC = "Numeric"  # GX also accepts Float for Numeric
TEXT = "String"
TIMESTAMP = "DateTime"
DATE = "Date"
BOOLEAN = "Boolean"

# Contract (DuckDB) type -> the exact SQLAlchemy type name GX reports for it.
_EXACT_TYPE = {
    "VARCHAR": "VARCHAR",
    "DOUBLE": "DOUBLE",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
    "JSON": "JSON",
}


def of_type(column: str, type_: str, severity: Severity = Severity.ERROR) -> Expectation:
    """Column has a type (an exact SQLAlchemy type name or a family above)."""
    return expect(
        E.ExpectColumnValuesToBeOfType, severity, f"{column} is {type_}", column=column, type_=type_
    )


def not_null(column: str, severity: Severity = Severity.ERROR, mostly: float = 1.0) -> Expectation:
    """Null rate of a column at most 1 - mostly."""
    why = f"{column} never null" if mostly >= 1 else f"{column} null rate <= {1 - mostly:.0%}"
    kwargs: dict[str, Any] = {"column": column}
    if mostly < 1:
        kwargs["mostly"] = mostly
    return expect(E.ExpectColumnValuesToNotBeNull, severity, why, **kwargs)


def null_rate(ctx: SuiteContext, column: str, mostly: float) -> list[Expectation]:
    """WARN when more than 1 - mostly of a populated column is null (none for an absent one)."""
    return [not_null(column, Severity.WARN, mostly=mostly)] if ctx.is_populated(column) else []


def share_at_most(condition_sql: str, max_share: float, why: str) -> Expectation:
    """WARN when more than max_share of the rows satisfy a SQL condition.

    For things a legitimate shop does now and then (a discount larger than a small order, an
    order line whose product left the catalogue): one such row is no defect, a large share
    is. The failing result is one row with the observed count, total and percentage.
    """
    hit = f"count(*) filter (where {condition_sql})"
    return query_rows(
        f"select {hit} as observed_rows, count(*) as total_rows, "
        f"round(100.0 * {hit} / count(*), 2) as observed_percent from {{batch}} "
        f"having {hit} > {max_share!r} * count(*)",
        Severity.WARN,
        f"{why} (allowed up to {max_share:.0%} of rows)",
    )


def unique(columns: Sequence[str], severity: Severity = Severity.ERROR) -> Expectation:
    """Key columns unique (single or compound)."""
    why = f"key ({', '.join(columns)}) unique"
    if len(columns) == 1:
        return expect(E.ExpectColumnValuesToBeUnique, severity, why, column=columns[0])
    return expect(E.ExpectCompoundColumnsToBeUnique, severity, why, column_list=list(columns))


def between(
    column: str,
    min_value: Any = None,
    max_value: Any = None,
    severity: Severity = Severity.ERROR,
    why: str | None = None,
    mostly: float = 1.0,
) -> Expectation:
    """Non-null values of a column within [min_value, max_value]."""
    if why is None:
        lo = "" if min_value is None else f"{min_value} <= "
        hi = "" if max_value is None else f" <= {max_value}"
        why = f"{lo}{column}{hi}"
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs["min_value"] = min_value
    if max_value is not None:
        kwargs["max_value"] = max_value
    if mostly < 1:
        kwargs["mostly"] = mostly
    return expect(E.ExpectColumnValuesToBeBetween, severity, why, **kwargs)


def probability(column: str, severity: Severity = Severity.ERROR) -> Expectation:
    """Values in [0, 1]."""
    return between(column, 0, 1, severity, why=f"{column} is a probability in [0, 1]")


def not_future(ctx: SuiteContext, column: str, severity: Severity = Severity.ERROR) -> Expectation:
    """No timestamp/date after now (+ the contract's clock skew)."""
    limit: Any = ctx.future_limit
    if ctx.columns.get(column, "").upper() == "DATE":
        limit = ctx.future_limit.date()
    return between(column, max_value=limit, severity=severity, why=f"{column} not in the future")


def in_set(column: str, values: Sequence[str], severity: Severity = Severity.ERROR) -> Expectation:
    """Non-null values from a fixed set."""
    return expect(
        E.ExpectColumnValuesToBeInSet,
        severity,
        f"{column} in ({', '.join(values)})",
        column=column,
        value_set=list(values),
    )


def query_rows(query_sql: str, severity: Severity, why: str) -> Expectation:
    """A SQL query over ``{batch}`` returns no rows (evaluated in DuckDB)."""
    return expect(E.UnexpectedRowsExpectation, severity, why, unexpected_rows_query=query_sql)


def rows_where(condition_sql: str, severity: Severity, why: str) -> Expectation:
    """No row of the batch satisfies a SQL condition (evaluated in DuckDB)."""
    return query_rows(f"select * from {{batch}} where {condition_sql}", severity, why)


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def raw_table_expectations(ctx: SuiteContext, table: Table) -> list[Expectation]:
    """Contract checks for raw.<table>: schema, types, required, keys, enums, ranges, FKs."""
    meta_cols = [c.name for c in RAW_META_COLUMNS]
    exps: list[Expectation] = [
        columns_present(table.column_names + meta_cols),
        columns_exactly(table.column_names + meta_cols),
    ]
    for col in (*table.columns, *RAW_META_COLUMNS):
        # GX reports DECIMAL(18,2) as DECIMAL (SQLAlchemy's name, without precision)
        exps.append(of_type(col.name, _EXACT_TYPE.get(col.type, col.type.split("(")[0])))
    for col in table.required_columns:
        exps.append(not_null(col))
    for col in ("_source_file", "_source_line", "_loaded_at"):
        exps.append(not_null(col))

    key = list(table.key)
    exps.append(
        duplicate_keys(
            [*key, "_source_file"],
            Severity.ERROR,
            f"key ({', '.join(key)}) unique within each source file (ingest quarantines dups)",
        )
    )
    # Across files the same key is a re-delivery (an updated order, a changed profile), which
    # staging resolves (latest wins): legitimate, so not checked here.
    for col in table.columns:
        if col.enum:  # ingest stores enums trimmed and lower-cased
            exps.append(in_set(col.name, col.enum))
        if col.non_negative:
            exps.append(between(col.name, min_value=0, why=f"{col.name} >= 0"))
        if col.not_future:
            exps.append(not_future(ctx, col.name))
    return exps


def duplicate_keys(columns: Sequence[str], severity: Severity, why: str) -> Expectation:
    """No key value occurs twice; reports each duplicated key with its count.

    A hash aggregate finds candidate keys first (grouping 64-bit hashes is much cheaper than
    grouping strings on 10M rows); the exact grouping then runs on those few rows only.
    """
    cols = ", ".join(quote(c) for c in columns)
    return query_rows(
        f"select {cols}, count(*) as n from {{batch}} where hash({cols}) in "
        f"(select hash({cols}) as h from {{batch}} group by h having count(*) > 1) "
        f"group by {cols} having count(*) > 1",
        severity,
        why,
    )


def orphans(
    column: str, parent_table: str, parent_column: str, max_share: float = 0.0
) -> Expectation:
    """WARN when more than max_share of the rows reference no parent row (default: any).

    Orphans load by design (a guest order with no customer record, a line whose product left
    the catalogue export); a large share means the files do not belong together (ids
    formatted differently, the wrong extract). Skipped when the parent table is empty.
    """
    c, p = quote(column), quote(parent_column)
    return share_at_most(
        f"{c} is not null and exists (select 1 from {parent_table}) "
        f"and {c} not in (select {p} from {parent_table} where {p} is not null)",
        max_share,
        f"{column} found in {parent_table}",
    )
