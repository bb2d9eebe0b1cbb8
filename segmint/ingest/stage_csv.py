"""Stage a CSV file: DuckDB's strict reader, rejects captured with their physical lines."""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmint.contract import Table
from segmint.ingest.lines import fetch_raw_lines, lf_copy, record_starts
from segmint.ingest.sql import lit
from segmint.ingest.staging import (
    MAX_LINE_SIZE,
    FileStats,
    Staged,
    check_required,
    drop_rejects,
    group_rejects,
    map_lines_by_gaps,
    match_columns,
    read_csv_header,
    src_select,
)


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: FileStats) -> Staged:
    """Stage a CSV file: DuckDB strict reader, rejects captured with physical lines.

    Mixed line endings (a CRLF header over LF rows) are read from an all-LF copy, which has
    the same physical lines; the raw text of quarantined rows comes from the file itself.
    """
    if not stats.mixed_endings:
        return _stage(con, path, table, stats, path)
    copy = lf_copy(path)
    try:
        return _stage(con, copy, table, stats, path)
    finally:
        copy.unlink(missing_ok=True)


def _stage(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: FileStats, original: Path
) -> Staged:
    """Stage the (LF-consistent) CSV `path`; `original` is the landing file."""
    header = read_csv_header(path)
    if header is None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _ing_src AS SELECT NULL::BIGINT AS _line, "
            f"NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _problems, "
            f"{src_select(table, {})} LIMIT 0"
        )
        return Staged(["empty file"])
    positions, extra = match_columns(table, header)
    check_required(table, set(positions), "csv")
    spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    drop_rejects(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_csv_r AS
        SELECT *
        FROM read_csv({lit(str(path))}, columns={spec}, header=true, auto_detect=false,
                      delim=',', quote='"', escape='"', strict_mode=true,
                      ignore_errors=true, store_rejects=true, rejects_table='_ing_rej',
                      rejects_scan='_ing_rej_scan', max_line_size={MAX_LINE_SIZE},
                      encoding='utf-8')
        """
    )
    # Staging tables are created outside any transaction, so rowid is the file order.
    con.execute("CREATE OR REPLACE TEMP VIEW _ing_csv AS SELECT rowid + 1 AS _k, * FROM _ing_csv_r")
    group_rejects(con)
    accepted, rejected = con.execute(
        "SELECT (SELECT count(*) FROM temp._ing_csv), (SELECT count(*) FROM temp._ing_rejg)"
    ).fetchall()[0]
    if stats.lines == 1 + accepted + rejected and rejected == 0:
        # One record per physical line and no rejects: line = record number + header.
        con.execute("CREATE TEMP VIEW _ing_csv_m AS SELECT *, _k + 1 AS _line FROM _ing_csv")
        con.execute("CREATE TEMP VIEW _ing_rejm AS SELECT _d AS _line, msg FROM _ing_rejg")
    elif stats.lines == 1 + accepted + rejected:
        # One record per physical line: DuckDB's record numbers are physical lines.
        map_lines_by_gaps(con, "_ing_csv", header=1)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ing_rejm AS SELECT _d AS _line, msg FROM _ing_rejg"
        )
    else:
        map_csv_lines_exact(con, path)
    exprs = {c: f"c{i}" for c, i in positions.items()}
    con.execute(
        f"""
        CREATE TEMP VIEW _ing_src AS
        SELECT _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _problems,
               {src_select(table, exprs)}
        FROM temp._ing_csv_m
        UNION ALL
        SELECT _line, msg, NULL, {src_select(table, {})} FROM temp._ing_rejm
        """
    )
    notes = [f"ignored extra column(s): {', '.join(extra)}"] if extra else []
    return Staged(notes, raw_lines=lambda c: fetch_raw_lines(c, original))


def map_csv_lines_exact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Physical lines for CSV records when blank lines or quoted newlines exist.

    Finds record starts (first physical line of each non-blank record) and matches them to
    DuckDB's record numbers, which count blank lines but not newlines inside quoted values.
    """
    starts = record_starts(path)
    if starts is None:
        _starts_by_quote_parity(con, path)
    else:
        con.register("_ing_starts_arrow", starts)
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _ing_starts AS SELECT * FROM _ing_starts_arrow"
            )
        finally:
            con.unregister("_ing_starts_arrow")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_rejm AS
        SELECT coalesce(s.p, r._d) AS _line, r.msg
        FROM temp._ing_rejg r LEFT JOIN temp._ing_starts s ON s.d = r._d
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_csv_m AS
        WITH acc AS (
            SELECT p, row_number() OVER (ORDER BY p) AS k
            FROM temp._ing_starts s
            WHERE NOT EXISTS (SELECT 1 FROM temp._ing_rejg r WHERE r._d = s.d)
        )
        SELECT c.*, coalesce(acc.p, c._k + 1) AS _line
        FROM temp._ing_csv c LEFT JOIN acc ON acc.k = c._k
        """
    )


def _starts_by_quote_parity(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """temp._ing_starts(p, d) by quote parity of physical lines (when Python's csv module
    cannot follow the file, e.g. a bare CR inside an unquoted field)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_lines_r AS
        SELECT line
        FROM read_csv({lit(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
                      auto_detect=false, delim='', quote='', escape='', strict_mode=false,
                      encoding='latin-1', max_line_size={MAX_LINE_SIZE})
        """
    )
    # Staging tables are created outside any transaction, so rowid is the file order.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _ing_lines AS SELECT rowid + 1 AS p, line FROM _ing_lines_r"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_starts AS
        WITH q AS (
            SELECT p, line,
                   coalesce(sum(length(line) - length(replace(line, '"', '')))
                       OVER (ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                       % 2 = 1 AS cont
            FROM temp._ing_lines
        ), d AS (
            SELECT p, line, cont,
                   p - sum(cont::INT) OVER (ORDER BY p) AS d
            FROM q
        )
        SELECT p, d FROM d
        WHERE p > 1 AND NOT cont AND coalesce(trim(line, E' \\r'), '') <> ''
        """
    )
