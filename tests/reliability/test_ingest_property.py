"""Property test (#21): random values per column either quarantine or run through dbt.

Hypothesis writes small CSV and JSON-lines files for every contract table whose values mix
plausible ones with hostile ones (epoch zero, -infinity, year 1, amounts near the float
limit, objects where an id belongs, stray quotes and newlines). Each file is ingested into
one shared warehouse; after every file: read = loaded + quarantined and the warehouse holds
exactly those rows. Everything that loaded is within the contract's plausibility bounds,
and one dbt build on the accumulated warehouse succeeds (one build: each is a full parse).
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.contract import (
    EARLIEST_BIRTH_DATE,
    EARLIEST_DATA_DATE,
    FUTURE_SKEW_HOURS,
    TABLES,
    Column,
)
from segmint.ingest import LOADED, ingest
from tests.dbt.helpers import DbtProject
from tests.reliability.test_bad_input_corpus import BASE_ORDERS, _assert_reconciled, _query

NOW = datetime(2024, 6, 1, 12, 0, 0)
EXAMPLES = 30

HOSTILE_TIMES = [
    "1970-01-01T00:00:00",
    "1970-01-01",
    "-infinity",
    "infinity",
    "0001-01-01",
    "1899-12-31T23:59:59",
    "1989-12-31T23:59:59Z",
    "2024-02-30",
    "2024-03-01T10:00:00+14:00",
    "294276-01-01",
    "epoch",
    "",
]
HOSTILE_NUMBERS = [
    "1.7976931348623157e308",
    "-1e308",
    "1e16",
    "9999999999999999.99",
    "999999999999.99",
    "NaN",
    "inf",
    "-0",
    "1e-320",
    "0x10",
    "1,5",
    "",
]
HOSTILE_TEXT = ["", " ", "NULL", '"', 'a"b', "a,b", "line\nbreak", "\\N", "💥", "x" * 300]


def _text(max_size: int) -> st.SearchStrategy[str]:
    """Random text that does not itself look like a JSON object or array (those are
    generated on purpose, as nested JSON values, and must not load as text)."""
    return st.text(max_size=max_size).filter(lambda t: not t.strip(" ").startswith(("{", "[")))


def _timestamps() -> st.SearchStrategy[str]:
    plausible = st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2024, 5, 31))
    return st.one_of(st.sampled_from(HOSTILE_TIMES), plausible.map(datetime.isoformat))


def _numbers() -> st.SearchStrategy[str]:
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr)
    return st.one_of(st.sampled_from(HOSTILE_NUMBERS), floats, st.integers(0, 10**6).map(str))


def _value(col: Column) -> st.SearchStrategy:
    t = col.type.upper()
    if col.enum is not None:
        return st.sampled_from([*col.enum, col.enum[0].upper(), f" {col.enum[-1]} ", "bogus", ""])
    if col.name.endswith("_id"):
        base = st.sampled_from(["o1", "o2", "c1", "c2", "p1", "e1", " o1 ", ""])
        return st.one_of(base, _text(8), st.sampled_from(HOSTILE_TEXT))
    if t in ("TIMESTAMP", "DATE"):
        return _timestamps()
    if t == "DOUBLE":
        return _numbers()
    if t == "INTEGER":
        hostile = st.sampled_from(["2.5", "1e6", "2000000000", "9223372036854775808", "-1"])
        return st.one_of(st.integers(-5, 50).map(str), hostile)
    if t == "BOOLEAN":
        return st.sampled_from(["true", "false", "yes", "0", "T", "maybe", ""])
    if t == "JSON":
        return st.sampled_from(['{"a": 1}', "[1, 2]", '"x"', "{bad", "null", ""])
    return st.one_of(_text(12), st.sampled_from(HOSTILE_TEXT))


def _json_value(text: str) -> st.SearchStrategy:
    """The same value in a JSON line: as a string, a number when it is one, or nested."""
    options = [st.just(text), st.just({"nested": text}), st.just([text])]
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            options.append(st.just(number))
    return st.one_of(options)


@st.composite
def landing_file(draw) -> tuple[str, str, str]:
    """(table, file name, content): a small CSV or JSON-lines file of random rows."""
    table = TABLES[draw(st.sampled_from(sorted(TABLES)))]
    rows = draw(
        st.lists(st.fixed_dictionaries({c.name: _value(c) for c in table.columns}), max_size=6)
    )
    if draw(st.booleans()):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(table.column_names)
        writer.writerows([r[c] for c in table.column_names] for r in rows)
        return table.name, "csv", buf.getvalue()
    lines = []
    for row in rows:
        obj = {k: draw(_json_value(v)) for k, v in row.items() if v != "" or draw(st.booleans())}
        lines.append(json.dumps(obj))
    return table.name, "jsonl", "".join(line + "\n" for line in lines)


def _assert_loaded_values_are_plausible(warehouse: Path) -> None:
    """Nothing in raw.* is outside the contract's bounds (what later steps rely on)."""
    limit = f"timestamp '{NOW}' + interval {FUTURE_SKEW_HOURS} hour"
    for table in TABLES.values():
        for col in table.columns:
            checks = []
            if col.max_abs is not None:
                checks.append(f"abs({col.name}) >= {col.max_abs!r}")
            if col.window is not None:
                floor = EARLIEST_BIRTH_DATE if col.window == "birth" else EARLIEST_DATA_DATE
                checks.append(f"{col.name} < date '{floor}' or {col.name} > {limit}")
            if col.type.upper() == "VARCHAR":  # a JSON object or array where text belongs
                checks.append(
                    f"_source_file like '%.jsonl' and json_valid({col.name}) "
                    f"and ({col.name} ^@ '{{' or {col.name} ^@ '[')"
                )
            for check in checks:
                sql = f"select count(*) from raw.{table.name} where {check}"
                assert _query(warehouse, sql) == [(0,)], f"{table.name}.{col.name}: {check}"


def test_random_values_reconcile_and_what_loads_builds(tmp_path: Path) -> None:
    warehouse = tmp_path / "segmint.duckdb"
    base = tmp_path / "landing_base"
    base.mkdir()
    (base / "orders.csv").write_text(BASE_ORDERS)
    ingest(base, warehouse, now=NOW, earliest=EARLIEST_DATA_DATE)
    counter = iter(range(10**6))
    loaded = {"files": 0, "rows": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(landing_file())
    def one_file(spec: tuple[str, str, str]) -> None:
        table, suffix, content = spec
        landing = tmp_path / f"landing_{next(counter)}"
        landing.mkdir()
        (landing / f"{table}_{landing.name}.{suffix}").write_text(content, encoding="utf-8")
        report = ingest(landing, warehouse, now=NOW, earliest=EARLIEST_DATA_DATE)
        _assert_reconciled(report, warehouse)
        loaded["files"] += sum(f.status == LOADED for f in report.files)
        loaded["rows"] += report.rows_loaded

    one_file()
    _assert_loaded_values_are_plausible(warehouse)
    assert loaded["files"] > EXAMPLES // 2, loaded

    project = DbtProject(warehouse, tmp_path / "dbt")
    project.run("seed")
    project.build("--exclude", "resource_type:seed", vars={"as_of": str(date(2024, 6, 1))})
