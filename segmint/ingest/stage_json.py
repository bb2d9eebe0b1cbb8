"""Stage a JSON lines file: one physical line per record, parsed with DuckDB's json."""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmint.contract import Table
from segmint.ingest.lines import fetch_raw_lines
from segmint.ingest.report import Refused
from segmint.ingest.sql import lit
from segmint.ingest.staging import (
    BOM,
    MAX_LINE_SIZE,
    FileStats,
    Staged,
    check_required,
    drop_rejects,
    group_rejects,
    map_lines_by_gaps,
    not_scalar_sql,
    src_select,
)


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """temp._ing_jv(_line, txt, ok): non-blank physical lines, ok when a JSON object;
    lines DuckDB could not decode land in temp._ing_rejg."""
    drop_rejects(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_jl_r AS
        SELECT line
        FROM read_csv({lit(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
                      auto_detect=false, delim='', quote='', escape='', strict_mode=false,
                      ignore_errors=true, store_rejects=true, rejects_table='_ing_rej',
                      rejects_scan='_ing_rej_scan', max_line_size={MAX_LINE_SIZE},
                      encoding='utf-8')
        """
    )
    # Staging tables are created outside any transaction, so rowid is the file order.
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _ing_jl AS SELECT rowid + 1 AS _k, line FROM _ing_jl_r"
    )
    group_rejects(con)
    map_lines_by_gaps(con, "_ing_jl", header=0)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_jv AS
        SELECT _line, txt,
               CASE WHEN json_valid(txt) THEN json_type(txt) = 'OBJECT' ELSE false END AS ok
        FROM (SELECT _line, CASE WHEN _line = 1 THEN ltrim(line, {lit(BOM)}) ELSE line END AS txt
              FROM temp._ing_jl_m)
        WHERE coalesce(trim(txt, E' \\t\\r'), '') <> ''
        """
    )


def _present_keys(con: duckdb.DuckDBPyConnection, table: Table, n_ok: int) -> set[str]:
    """Contract columns that at least one object has (all of them for an empty file)."""
    if n_ok == 0:
        return set(table.column_names)  # empty file: nothing to check
    checks = ", ".join(
        f"count(*) FILTER (WHERE json_exists(txt, '$.{c}'))" for c in table.column_names
    )
    counts = con.execute(f"SELECT {checks} FROM temp._ing_jv WHERE ok").fetchall()[0]
    return {c for c, n in zip(table.column_names, counts, strict=True) if n}


def _extra_keys(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """Keys of the first 1000 objects that are no contract column (reported, not loaded)."""
    keys = con.execute(
        "SELECT DISTINCT unnest(json_keys(txt)) AS k FROM "
        "(SELECT txt FROM temp._ing_jv WHERE ok ORDER BY _line LIMIT 1000) ORDER BY k"
    ).fetchall()
    return [k for (k,) in keys if k not in table.column_names]


def stage_json(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: FileStats
) -> Staged:
    """Stage a JSON lines file: one physical line per record, parsed with DuckDB's json."""
    _read_lines(con, path)
    n_lines, n_ok, n_bad_enc = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE ok), (SELECT count(*) FROM temp._ing_rejg) "
        "FROM temp._ing_jv"
    ).fetchall()[0]
    if n_ok == 0 and (n_lines + n_bad_enc) > 0:
        raise Refused("not a JSON lines file (no line is a JSON object)")
    check_required(table, _present_keys(con, table, n_ok), "json")
    paths = "[" + ", ".join(f"'$.{c}'" for c in table.column_names) + "]"
    exprs = {c: f"v[{i + 1}]" for i, c in enumerate(table.column_names)}
    kinds = {c: f"k[{i + 1}]" for i, c in enumerate(table.column_names)}
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_src AS
        SELECT _line, NULL::VARCHAR AS _malformed, {not_scalar_sql(table, kinds)} AS _problems,
               {src_select(table, exprs)}
        FROM (SELECT _line, json_extract_string(txt, {paths}) AS v, json_type(txt, {paths}) AS k
              FROM temp._ing_jv WHERE ok)
        UNION ALL
        SELECT _line, 'invalid JSON (expected one JSON object per line)', NULL,
               {src_select(table, {})}
        FROM temp._ing_jv WHERE NOT ok
        UNION ALL
        SELECT _d, msg, NULL, {src_select(table, {})} FROM temp._ing_rejg
        """
    )
    extra = _extra_keys(con, table) if n_ok else []
    notes = [f"ignored extra key(s): {', '.join(extra)}"] if extra else []
    if n_lines + n_bad_enc == 0:
        notes.insert(0, "empty file")
    return Staged(notes, raw_lines=lambda c: fetch_raw_lines(c, path))
