"""Typed validation: contract types, reasons for quarantine, duplicates, erased people.

temp._ing_src (text columns, physical lines) is checked in SQL: every value trimmed and
cast to its contract type; a row gets a machine-readable reason per broken rule
(missing_required, invalid_type, unknown_enum, future_timestamp, negative_value,
out_of_range, implausible_timestamp, not_scalar, malformed_row, duplicate_key) and goes to
quarantine.<table> with it; good rows go to raw.<table>. The plausibility bounds
(out_of_range, implausible_timestamp) come from the contract, so whatever loads runs
through every later step; not_scalar comes from the stager (an object or array where
the contract has a plain value). Rows of erased people (segmint.privacy.erased_row_sql)
are quarantined with reason erased_customer and every value blanked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import duckdb

from segmint import privacy
from segmint.contract import (
    EARLIEST_BIRTH_DATE,
    EARLIEST_DATA_DATE,
    FUTURE_SKEW_HOURS,
    QUARANTINE_META_COLUMNS,
    RAW_META_COLUMNS,
    Column,
    Table,
)
from segmint.ingest.sql import lit, q

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")
ERASED_REASON = "erased_customer"


def _typed_expr(col: Column, v: str) -> str:
    """SQL turning trimmed text v into the contract type (NULL when unparseable)."""
    t = col.type.upper()
    if col.enum is not None:
        return f"lower({v})"
    if t == "VARCHAR":
        return v
    if t == "BOOLEAN":
        trues = ", ".join(lit(w) for w in TRUE_WORDS)
        falses = ", ".join(lit(w) for w in FALSE_WORDS)
        return (
            f"CASE WHEN lower({v}) IN ({trues}) THEN true "
            f"WHEN lower({v}) IN ({falses}) THEN false END"
        )
    if t == "TIMESTAMP":
        return f"timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ))"
    if t == "DATE":
        return (
            f"coalesce(TRY_CAST({v} AS DATE), "
            f"CAST(timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) AS DATE))"
        )
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return f"CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) THEN TRY_CAST({v} AS {t}) END"
    if t in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT"):
        return (
            f"CASE WHEN TRY_CAST({v} AS DOUBLE) = floor(TRY_CAST({v} AS DOUBLE)) "
            f"THEN TRY_CAST(TRY_CAST({v} AS DOUBLE) AS {t}) END"
        )
    if t == "JSON":
        return f"CASE WHEN json_valid({v}) THEN {v}::JSON END"
    return f"TRY_CAST({v} AS {t})"


def _trimmed(x: str) -> str:
    """SQL: text without surrounding spaces, NULL when empty (cheap when nothing to trim)."""
    return (
        f"CASE WHEN {x} ^@ ' ' OR suffix({x}, ' ') THEN NULLIF(trim({x}), '') "
        f"ELSE NULLIF({x}, '') END"
    )


def _reason_exprs(col: Column) -> list[str]:
    """SQL fragments, each NULL or one reason for this column."""
    v, typed, name = f"v_{col.name}", f"t_{col.name}", col.name
    out: list[str] = []
    if col.required:
        out.append(f"CASE WHEN {v} IS NULL THEN 'missing_required:{name}' END")
    # A number beyond the column's bound (it may not even fit DECIMAL(18,2)) is out of range,
    # not of the wrong type: the bound is checked on the value read as a DOUBLE.
    # (Infinity and NaN stay invalid_type: not numbers a shop can have.)
    as_double = f"TRY_CAST({v} AS DOUBLE)"
    too_big = (
        f"(isfinite({as_double}) AND abs({as_double}) >= {col.max_abs!r})" if col.max_abs else None
    )
    if col.type.upper() != "VARCHAR" and col.enum is None:
        unless = f" AND NOT coalesce({too_big}, false)" if too_big else ""
        out.append(
            f"CASE WHEN {v} IS NOT NULL AND {typed} IS NULL{unless} THEN 'invalid_type:{name}' END"
        )
    if col.enum is not None:
        allowed = ", ".join(lit(e.lower()) for e in col.enum)
        out.append(
            f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN ({allowed}) "
            f"THEN 'unknown_enum:{name}' END"
        )
    if col.not_future:
        out.append(f"CASE WHEN {typed} > $future_limit THEN 'future_timestamp:{name}' END")
    if col.non_negative:
        out.append(f"CASE WHEN {typed} < 0 THEN 'negative_value:{name}' END")
    if too_big is not None:
        out.append(f"CASE WHEN {too_big} THEN 'out_of_range:{name}' END")
    if col.window is not None:
        out.append(
            f"CASE WHEN {typed} < ${'earliest_' + col.window} "
            f"THEN 'implausible_timestamp:{name}' END"
        )
    return out


def _check_rows(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    now: datetime,
    erasure: frozenset[str],
    earliest: date,
) -> None:
    """temp._ing_chk: typed values, base reasons, the erased flag and the reason per line."""
    cols = table.columns
    inner = ", ".join(f"{_trimmed(q(c.name))} AS v_{c.name}" for c in cols)
    typed = ", ".join(f"{_typed_expr(c, f'v_{c.name}')} AS t_{c.name}" for c in cols)
    reasons = [r for c in cols for r in _reason_exprs(c)]
    base = f"NULLIF(concat_ws('; ', _problems, {', '.join(reasons)}), '')"
    erased = privacy.erased_row_sql(set(table.column_names), erasure, "based")
    check_sql = f"""
        CREATE OR REPLACE TEMP TABLE _ing_chk AS
        WITH typed AS (
            SELECT _line, _malformed, _problems, {", ".join(f"v_{c.name}" for c in cols)},
                   {typed}
            FROM (SELECT _line, _malformed, _problems, {inner} FROM temp._ing_src)
        ), based AS (
            SELECT *, CASE WHEN _malformed IS NOT NULL THEN 'malformed_row:' || _malformed
                           ELSE {base} END AS _base
            FROM typed
        ), flagged AS (
            SELECT *, _malformed IS NULL AND ({erased}) AS _erased FROM based
        )
        SELECT _line, _malformed IS NOT NULL AS _bad_row, _base, _erased,
               {", ".join(f"t_{c.name}" for c in cols)},
               NULLIF(concat_ws('; ', _base,
                      CASE WHEN _erased THEN '{ERASED_REASON}' END), '') AS _reason
        FROM flagged
        """
    # Only the placeholders a table's checks use are passed (products have none).
    values = {
        "future_limit": now + timedelta(hours=FUTURE_SKEW_HOURS),
        "earliest_data": datetime.combine(earliest, time()),
        "earliest_birth": EARLIEST_BIRTH_DATE,
    }
    params = {k: v for k, v in values.items() if f"${k}" in check_sql}
    con.execute(check_sql, params or None)


def _mark_duplicates(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Add duplicate_key to the reason of every repeated key but the one kept.

    Only keys seen more than once are ranked (cheap when there are none). The first
    occurrence without other problems is kept; every other occurrence except the very first
    line of the key (which has its own reasons) is a duplicate.
    """
    key_typed = ", ".join(f"t_{k}" for k in table.key)
    key_present = " AND ".join(f"t_{k} IS NOT NULL" for k in table.key)
    key_join = " AND ".join(f"c.t_{k} = d.t_{k}" for k in table.key)
    partition = ", ".join(f"c.t_{k}" for k in table.key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_dup AS
        SELECT _line FROM (
            SELECT c._line, row_number() OVER (
                       PARTITION BY {partition}
                       ORDER BY c._base IS NOT NULL, c._line) AS rn,
                   min(c._line) OVER (PARTITION BY {partition}) AS first_line
            FROM temp._ing_chk c
            JOIN (SELECT {key_typed} FROM temp._ing_chk
                  WHERE NOT _bad_row AND {key_present}
                  GROUP BY ALL HAVING count(*) > 1) d ON {key_join}
            WHERE NOT c._bad_row)
        WHERE rn > 1 AND _line > first_line
        """
    )
    con.execute(
        f"""
        UPDATE temp._ing_chk SET _reason = concat_ws('; ', _base, 'duplicate_key',
                                                     CASE WHEN _erased THEN '{ERASED_REASON}' END)
        WHERE _line IN (SELECT _line FROM temp._ing_dup)
        """
    )


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source_file: str,
    file_hash: str,
    loaded_at: datetime,
    has_raw: bool,
) -> None:
    """Good rows to raw.<table>; the others to quarantine.<table> with their reason and, when
    has_raw, their raw text from temp._ing_raw."""
    cols = table.columns
    meta = "$source_file, _line, $file_hash, $loaded_at"
    params = {"source_file": source_file, "file_hash": file_hash, "loaded_at": loaded_at}
    raw_cols = ", ".join(q(c.name) for c in cols + RAW_META_COLUMNS)
    con.execute(
        f"""
        INSERT INTO raw.{table.name} ({raw_cols})
        SELECT {", ".join(f"t_{c.name}" for c in cols)}, {meta}
        FROM temp._ing_chk WHERE _reason IS NULL
        """,
        params,
    )
    q_cols = ", ".join(q(c.name) for c in cols + QUARANTINE_META_COLUMNS)
    # Erased people's values are not kept anywhere, not even in quarantine.
    q_vals = ", ".join(f"CASE WHEN b._erased THEN NULL ELSE s.{q(c.name)} END" for c in cols)
    raw = "r._raw_line" if has_raw else "NULL"
    raw_join = "LEFT JOIN temp._ing_raw r ON r._line = b._line" if has_raw else ""
    con.execute(
        f"""
        INSERT INTO quarantine.{table.name} ({q_cols})
        SELECT {q_vals}, b._reason, {meta.replace("_line", "b._line")},
               CASE WHEN b._erased THEN NULL ELSE {raw} END
        FROM (SELECT _line, _erased, _reason FROM temp._ing_chk WHERE _reason IS NOT NULL) b
        JOIN temp._ing_src s ON s._line = b._line
        {raw_join}
        ORDER BY b._line
        """,
        params,
    )


def _fetch_raw(
    con: duckdb.DuckDBPyConnection, raw_lines: Callable[[duckdb.DuckDBPyConnection], None]
) -> bool:
    """temp._ing_raw for the quarantined rows that keep values; False when there are none."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_want AS
        SELECT _line, _next FROM (
            SELECT c._line, c._reason IS NOT NULL AND NOT c._erased AS wanted,
                   lead(c._line) OVER (ORDER BY c._line) AS _next
            FROM temp._ing_chk c)
        WHERE wanted
        """
    )
    if not con.execute("SELECT count(*) FROM temp._ing_want").fetchall()[0][0]:
        return False
    raw_lines(con)
    return True


def validate_and_load(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source_file: str,
    file_hash: str,
    loaded_at: datetime,
    now: datetime,
    erasure: frozenset[str],
    earliest: date = EARLIEST_DATA_DATE,
    raw_lines: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> tuple[int, int, int, int]:
    """Validate temp._ing_src against the contract and insert into raw/quarantine.

    Returns rows (read, loaded, quarantined, of which suppressed as erased people's).
    """
    _check_rows(con, table, now, erasure, earliest)
    _mark_duplicates(con, table)
    has_raw = raw_lines is not None and _fetch_raw(con, raw_lines)
    _insert(con, table, source_file, file_hash, loaded_at, has_raw)
    read, quarantined, suppressed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _reason IS NOT NULL), "
        "count(*) FILTER (WHERE _erased) FROM temp._ing_chk"
    ).fetchall()[0]
    return read, read - quarantined, quarantined, suppressed
