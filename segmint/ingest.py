"""Raw landing: discover landing files and load them into raw.* (typed) or quarantine.*.

Every file is read by DuckDB's own readers with every column as text, validated in SQL
against the raw data contract (segmint.contract) and written inside one transaction:
good rows to ``raw.<table>``, bad rows to ``quarantine.<table>`` with a machine-readable
reason and their source line, and one row to ``raw.load_ledger``. Files whose content hash
is already loaded are skipped, so re-running ingest is a no-op.

Erased people (``segmint forget``) stay out: a row is suppressed when its customer_id is in
``raw.erasure_ledger``, its order_id is an erased order or, for anonymous rows (no
customer_id), its anonymous_id is an erased device (``raw.erasure_identifiers``). Every
ledger value is ``sha256(trim(id))`` as lower-case hex, the same in Python
(``identifier_hash``) and in DuckDB SQL (``sha256(trim(id))``). A suppressed row is
quarantined with reason ``erased_customer`` and every value blanked, so it counts as
quarantined (read = loaded + quarantined still holds per file) and ``rows_suppressed``
says how many of the quarantined rows were suppressed.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from segmint.contract import (
    FILE_SUFFIXES,
    FUTURE_SKEW_HOURS,
    QUARANTINE_META_COLUMNS,
    RAW_META_COLUMNS,
    TABLES,
    Column,
    Table,
)

Progress = Callable[[str, int, int], None]

LOADED = "loaded"
SKIPPED = "skipped_already_loaded"
REFUSED = "refused"
IGNORED = "ignored"

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")
BOM = "\ufeff"
MAX_LINE_SIZE = 64 * 1024 * 1024
_HASH_CHUNK = 4 * 1024 * 1024
_NESTED_TYPE = re.compile(r"^(STRUCT|MAP|UNION|JSON)\b|\[\d*\]$")
_EMAIL = re.compile(r"[^\s'\"<>@]+@[^\s'\"<>@]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")

# Erasure ledgers (written by segmint.erasure.forget, read here; hashes only, no PII):
# raw.erasure_ledger: one row per erased customer, customer_id_hash (+ erased_at);
# raw.erasure_identifiers: the erased people's other identifiers, identifier_kind says which
# column the hash is of (order_id: their orders; anonymous_id: devices seen only with them).
ERASURE_LEDGER = "raw.erasure_ledger"
ERASURE_IDENTIFIERS = "raw.erasure_identifiers"
ERASED_ID_KINDS = ("order_id", "anonymous_id")
ERASED_REASON = "erased_customer"


def identifier_hash(value: str) -> str:
    """What the erasure ledgers store: lower-case hex SHA-256 of the trimmed identifier.

    Same string as DuckDB's ``sha256(trim(x))``: both hash the UTF-8 bytes, and like SQL
    ``trim`` (and ingest, which trims values the same way) only spaces are stripped.
    """
    return hashlib.sha256(value.strip(" ").encode("utf-8")).hexdigest()


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("file_path", "VARCHAR"),
    Column("file_hash", "VARCHAR"),
    Column("table_name", "VARCHAR"),
    Column("file_format", "VARCHAR"),
    Column("rows_read", "BIGINT"),
    Column("rows_loaded", "BIGINT"),
    Column("rows_quarantined", "BIGINT"),
    Column("status", "VARCHAR"),
    Column("message", "VARCHAR"),
    Column("started_at", "TIMESTAMP"),
    Column("finished_at", "TIMESTAMP"),
)


class IngestError(Exception):
    """A user-facing ingest failure with a one-line message (printed without traceback)."""


class _Refused(Exception):
    """Internal: the current file is refused whole; the message names file and reason."""


@dataclass
class FileResult:
    """What happened to one landing file."""

    table: str | None
    file: str
    file_hash: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    status: str
    message: str
    file_format: str | None = None
    # Of rows_quarantined: rows of erased people (reason erased_customer, values blanked).
    rows_suppressed: int = 0


@dataclass
class IngestReport:
    """Per-file results of one ingest run plus totals."""

    landing: str
    warehouse: str
    files: list[FileResult] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_read(self) -> int:
        """Rows read from files processed in this run."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        """Rows written to raw.* in this run."""
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        """Rows written to quarantine.* in this run."""
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_suppressed(self) -> int:
        """Of the quarantined rows: erased people's rows kept out (values blanked)."""
        return sum(f.rows_suppressed for f in self.files)

    @property
    def files_loaded(self) -> int:
        """Files loaded in this run."""
        return self._count(LOADED)

    @property
    def files_skipped(self) -> int:
        """Files skipped because their content was already loaded."""
        return self._count(SKIPPED)

    @property
    def files_refused(self) -> int:
        """Files refused whole (wrong columns, unreadable)."""
        return self._count(REFUSED)

    @property
    def files_ignored(self) -> int:
        """Files under landing that match no table."""
        return self._count(IGNORED)

    @property
    def totals(self) -> dict[str, int]:
        """All totals as one dict."""
        return {
            "files_loaded": self.files_loaded,
            "files_skipped": self.files_skipped,
            "files_refused": self.files_refused,
            "files_ignored": self.files_ignored,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_suppressed": self.rows_suppressed,
        }

    def per_table(self) -> dict[str, dict[str, int]]:
        """Row totals per table for files processed in this run."""
        out: dict[str, dict[str, int]] = {}
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_suppressed")
        for f in self.files:
            if f.table is None:
                continue
            t = out.setdefault(f.table, dict.fromkeys(keys, 0))
            for k in keys:
                t[k] += getattr(f, k)
        return out

    def summary(self) -> str:
        """One line for humans: files and rows (counts only, never values)."""
        t = self.totals
        erased = f" ({t['rows_suppressed']} of erased people)" if t["rows_suppressed"] else ""
        return (
            f"{t['files_loaded']} file(s) loaded, {t['files_skipped']} already loaded, "
            f"{t['files_refused']} refused, {t['files_ignored']} ignored; "
            f"{t['rows_read']} rows read, {t['rows_loaded']} loaded, "
            f"{t['rows_quarantined']} quarantined{erased}"
        )


# --------------------------------------------------------------------------- discovery


def _table_for(path: Path, landing: Path) -> str | None:
    """The contract table a landing file belongs to, or None."""
    if path.suffix.lower() not in FILE_SUFFIXES:
        return None
    stem = path.stem.lower()
    by_name = [t for t in TABLES if stem == t or stem.startswith(f"{t}_")]
    if by_name:
        return max(by_name, key=len)
    for parent in path.relative_to(landing).parents:
        name = parent.name.lower()
        if name in TABLES:
            return name
    return None


def _scan(landing: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Files per table (sorted) and the files that match no table."""
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    ignored: list[Path] = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        table = _table_for(path, landing)
        if table is None:
            ignored.append(path)
        else:
            found[table].append(path)
    return found, ignored


def discover(landing: Path) -> dict[str, list[Path]]:
    """Landing files per contract table (every table is a key), in sorted path order."""
    landing = Path(landing)
    if not landing.is_dir():
        raise IngestError(f"landing folder not found: {landing}")
    return _scan(landing)[0]


# --------------------------------------------------------------------------- schema


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _column_defs(columns: list[tuple[str, str]]) -> str:
    """Column definitions for CREATE TABLE."""
    return ", ".join(f"{_q(n)} {t}" for n, t in columns)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas raw/quarantine, all raw and quarantine tables and the ledgers."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    for table in TABLES.values():
        raw_cols = [(c.name, c.type) for c in table.columns + RAW_META_COLUMNS]
        q_cols = [(c.name, "VARCHAR") for c in table.columns]
        q_cols += [(c.name, c.type) for c in QUARANTINE_META_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table.name} ({_column_defs(raw_cols)})")
        con.execute(f"CREATE TABLE IF NOT EXISTS quarantine.{table.name} ({_column_defs(q_cols)})")
    ledger = [(c.name, c.type) for c in LEDGER_COLUMNS]
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.load_ledger ({_column_defs(ledger)})")
    con.execute(f"CREATE TABLE IF NOT EXISTS {ERASURE_LEDGER} (customer_id_hash VARCHAR)")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {ERASURE_IDENTIFIERS} "
        "(identifier_kind VARCHAR, identifier_hash VARCHAR, erased_at TIMESTAMP)"
    )


def _erasure_kinds(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Which identifier columns the erasure ledgers list hashes of (empty: nobody erased)."""
    kinds: set[str] = set()
    if con.execute(f"SELECT count(*) FROM {ERASURE_LEDGER}").fetchone()[0]:
        kinds.add("customer_id")
    rows = con.execute(
        f"SELECT DISTINCT identifier_kind FROM {ERASURE_IDENTIFIERS} "
        "WHERE identifier_hash IS NOT NULL"
    ).fetchall()
    kinds.update(k for (k,) in rows if k in ERASED_ID_KINDS)
    return frozenset(kinds)


def _erased_condition(table: Table, erasure: frozenset[str]) -> str:
    """SQL over the typed (trimmed) columns t_*: the row belongs to an erased person.

    Same rule as segmint forget: their customer_id; one of their order ids (order_items
    carry no customer_id); an anonymous_id of theirs on a row without customer_id.
    """
    cols = set(table.column_names)
    out: list[str] = []
    # sha256 of NULL is NULL, so rows that cannot match are not hashed at all (the IN
    # becomes a hash join over every row of the file).
    if "customer_id" in erasure and "customer_id" in cols:
        out.append(
            f"sha256(t_customer_id) IN (SELECT lower(customer_id_hash) FROM {ERASURE_LEDGER})"
        )
    for kind in ERASED_ID_KINDS:
        if kind not in erasure or kind not in cols:
            continue
        value = f"t_{kind}"
        if kind == "anonymous_id" and "customer_id" in cols:
            value = f"CASE WHEN t_customer_id IS NULL THEN {value} END"
        out.append(
            f"sha256({value}) IN (SELECT lower(identifier_hash) "
            f"FROM {ERASURE_IDENTIFIERS} WHERE identifier_kind = {_lit(kind)})"
        )
    return " OR ".join(f"coalesce({c}, false)" for c in out) if out else "false"


# --------------------------------------------------------------------------- helpers


@dataclass
class _FileStats:
    sha256: str
    size: int
    lines: int  # physical lines (a last line without newline counts)


def _file_stats(path: Path) -> _FileStats:
    """Streamed sha256, size and physical line count of a file."""
    digest = hashlib.sha256()
    size = newlines = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    lines = newlines + (1 if size and last != b"\n" else 0)
    return _FileStats(digest.hexdigest(), size, lines)


def _safe(message: str) -> str:
    """First line of an error message with anything like an email or phone masked."""
    line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    line = _PHONE.sub("<redacted>", _EMAIL.sub("<redacted>", line))
    return line[:300]


def _utc_naive(ts: datetime) -> datetime:
    """A datetime as naive UTC."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _wall_clock() -> datetime:
    """Current time as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _read_csv_header(path: Path) -> list[str] | None:
    """The header record of a CSV file (BOM stripped), or None for an empty file."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        try:
            return next(csv.reader(fh, delimiter=",", quotechar='"'))
        except StopIteration:
            return None
        except csv.Error as exc:
            raise _Refused(f"unreadable CSV header ({_safe(str(exc))})") from exc


def _match_columns(table: Table, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map contract columns to header positions (first occurrence); list extra columns."""
    positions: dict[str, int] = {}
    extra: list[str] = []
    for i, raw_name in enumerate(names):
        name = raw_name.strip().lstrip(BOM).strip().lower()
        if name in table.column_names:
            positions.setdefault(name, i)
        elif name:
            extra.append(name)
    return positions, extra


def _check_required(table: Table, present: set[str], fmt: str) -> None:
    """Refuse the file when required contract columns are absent."""
    missing = [c for c in table.required_columns if c not in present]
    if missing:
        hint = " (is the header ',' delimited?)" if fmt == "csv" else ""
        raise _Refused(
            f"missing required column(s) {', '.join(missing)} for table {table.name}{hint}"
        )


def _cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temporary object (temp._ing_*) of the file being processed."""
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, '_ing_')"
    ).fetchall()
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary "
        "AND starts_with(table_name, '_ing_')"
    ).fetchall()
    for (name,) in views:
        con.execute(f"DROP VIEW IF EXISTS temp.{_q(name)}")
    for (name,) in tables:
        con.execute(f"DROP TABLE IF EXISTS temp.{_q(name)}")


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Drop DuckDB's CSV rejects tables so the next scan starts empty."""
    con.execute("DROP TABLE IF EXISTS temp._ing_rej")
    con.execute("DROP TABLE IF EXISTS temp._ing_rej_scan")


def _map_lines_by_gaps(con: duckdb.DuckDBPyConnection, table: str, header: int) -> None:
    """Add _line to accepted rows (_k) from rejected record numbers in temp._ing_rejg.

    Valid when every physical line after the header is exactly one record: the k-th
    accepted record is the k-th line number (after the header) not taken by a reject.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_gap AS
        SELECT _d - j - {header} AS a, max(j) AS j
        FROM (SELECT _d, row_number() OVER (ORDER BY _d) AS j FROM temp._ing_rejg)
        GROUP BY 1
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table}_m AS
        SELECT s.*, s._k + {header} + coalesce(g.j, 0) AS _line
        FROM temp.{table} s ASOF LEFT JOIN temp._ing_gap g ON s._k > g.a
        """
    )


# --------------------------------------------------------------------------- readers


@dataclass
class _Staged:
    """A file staged as temp._ing_src(_line, _malformed, <contract columns as VARCHAR>)."""

    notes: list[str] = field(default_factory=list)


def _src_select(table: Table, exprs: dict[str, str]) -> str:
    """Select list of contract columns (absent ones NULL) as VARCHAR."""
    return ", ".join(f"{exprs.get(c, 'NULL')}::VARCHAR AS {_q(c)}" for c in table.column_names)


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: _FileStats
) -> _Staged:
    """Stage a CSV file: DuckDB strict reader, rejects captured with physical lines."""
    header = _read_csv_header(path)
    if header is None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _ing_src AS SELECT NULL::BIGINT AS _line, "
            f"NULL::VARCHAR AS _malformed, {_src_select(table, {})} LIMIT 0"
        )
        return _Staged(["empty file"])
    positions, extra = _match_columns(table, header)
    _check_required(table, set(positions), "csv")
    spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    _drop_rejects(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_csv_r AS
        SELECT *
        FROM read_csv({_lit(str(path))}, columns={spec}, header=true, auto_detect=false,
                      delim=',', quote='"', escape='"', strict_mode=true,
                      ignore_errors=true, store_rejects=true, rejects_table='_ing_rej',
                      rejects_scan='_ing_rej_scan', max_line_size={MAX_LINE_SIZE},
                      encoding='utf-8')
        """
    )
    # Staging tables are created outside any transaction, so rowid is the file order.
    con.execute("CREATE OR REPLACE TEMP VIEW _ing_csv AS SELECT rowid + 1 AS _k, * FROM _ing_csv_r")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_rejg AS
        SELECT _d, string_agg(msg, '; ' ORDER BY error_type) AS msg
        FROM (SELECT line::BIGINT AS _d, error_type::VARCHAR AS error_type,
                     arg_min(error_message, coalesce(column_idx, 0)) AS msg
              FROM temp._ing_rej GROUP BY ALL)
        GROUP BY _d
        """
    )
    _drop_rejects(con)
    accepted, rejected = con.execute(
        "SELECT (SELECT count(*) FROM temp._ing_csv), (SELECT count(*) FROM temp._ing_rejg)"
    ).fetchone()
    if stats.lines == 1 + accepted + rejected and rejected == 0:
        # One record per physical line and no rejects: line = record number + header.
        con.execute("CREATE TEMP VIEW _ing_csv_m AS SELECT *, _k + 1 AS _line FROM _ing_csv")
        con.execute("CREATE TEMP VIEW _ing_rejm AS SELECT _d AS _line, msg FROM _ing_rejg")
    elif stats.lines == 1 + accepted + rejected:
        # One record per physical line: DuckDB's record numbers are physical lines.
        _map_lines_by_gaps(con, "_ing_csv", header=1)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ing_rejm AS SELECT _d AS _line, msg FROM _ing_rejg"
        )
    else:
        _map_csv_lines_exact(con, path)
    exprs = {c: f"c{i}" for c, i in positions.items()}
    con.execute(
        f"""
        CREATE TEMP VIEW _ing_src AS
        SELECT _line, NULL::VARCHAR AS _malformed, {_src_select(table, exprs)}
        FROM temp._ing_csv_m
        UNION ALL
        SELECT _line, msg, {_src_select(table, {})} FROM temp._ing_rejm
        """
    )
    notes = [f"ignored extra column(s): {', '.join(extra)}"] if extra else []
    return _Staged(notes)


def _map_csv_lines_exact(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Physical lines for CSV records when blank lines or quoted newlines exist.

    Reads the file as physical lines, finds record starts (not blank, not inside a quoted
    value by quote parity) and matches them to DuckDB's record numbers, which count blank
    lines but not newlines inside quoted values.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_lines_r AS
        SELECT line
        FROM read_csv({_lit(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
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


def _stage_json(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: _FileStats
) -> _Staged:
    """Stage a JSON lines file: one physical line per record, parsed with DuckDB's json."""
    _drop_rejects(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_jl_r AS
        SELECT line
        FROM read_csv({_lit(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
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
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ing_rejg AS
        SELECT _d, string_agg(msg, '; ' ORDER BY error_type) AS msg
        FROM (SELECT line::BIGINT AS _d, error_type::VARCHAR AS error_type,
                     arg_min(error_message, coalesce(column_idx, 0)) AS msg
              FROM temp._ing_rej GROUP BY ALL)
        GROUP BY _d
        """
    )
    _drop_rejects(con)
    _map_lines_by_gaps(con, "_ing_jl", header=0)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_jv AS
        SELECT _line, txt,
               CASE WHEN json_valid(txt) THEN json_type(txt) = 'OBJECT' ELSE false END AS ok
        FROM (SELECT _line, CASE WHEN _line = 1 THEN ltrim(line, {_lit(BOM)}) ELSE line END AS txt
              FROM temp._ing_jl_m)
        WHERE coalesce(trim(txt, E' \\t\\r'), '') <> ''
        """
    )
    n_lines, n_ok, n_bad_enc = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE ok), (SELECT count(*) FROM temp._ing_rejg) "
        "FROM temp._ing_jv"
    ).fetchone()
    if n_ok == 0 and (n_lines + n_bad_enc) > 0:
        raise _Refused("not a JSON lines file (no line is a JSON object)")
    if n_ok == 0:
        present = set(table.column_names)  # empty file: nothing to check
    else:
        checks = ", ".join(
            f"count(*) FILTER (WHERE json_exists(txt, '$.{c}'))" for c in table.column_names
        )
        counts = con.execute(f"SELECT {checks} FROM temp._ing_jv WHERE ok").fetchone()
        present = {c for c, n in zip(table.column_names, counts, strict=True) if n}
    _check_required(table, present, "json")
    paths = "[" + ", ".join(f"'$.{c}'" for c in table.column_names) + "]"
    exprs = {c: f"v[{i + 1}]" for i, c in enumerate(table.column_names)}
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_src AS
        SELECT _line, NULL::VARCHAR AS _malformed, {_src_select(table, exprs)}
        FROM (SELECT _line, json_extract_string(txt, {paths}) AS v
              FROM temp._ing_jv WHERE ok)
        UNION ALL
        SELECT _line, 'invalid JSON (expected one JSON object per line)',
               {_src_select(table, {})}
        FROM temp._ing_jv WHERE NOT ok
        UNION ALL
        SELECT _d, msg, {_src_select(table, {})} FROM temp._ing_rejg
        """
    )
    extra: list[str] = []
    if n_ok:
        keys = con.execute(
            "SELECT DISTINCT unnest(json_keys(txt)) AS k FROM "
            "(SELECT txt FROM temp._ing_jv WHERE ok ORDER BY _line LIMIT 1000) ORDER BY k"
        ).fetchall()
        extra = [k for (k,) in keys if k not in table.column_names]
    notes = [f"ignored extra key(s): {', '.join(extra)}"] if extra else []
    if n_lines + n_bad_enc == 0:
        notes.insert(0, "empty file")
    return _Staged(notes)


def _stage_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, stats: _FileStats
) -> _Staged:
    """Stage a Parquet file: every column cast to text (nested types as JSON text)."""
    src = f"read_parquet({_lit(str(path))}, file_row_number=true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    except duckdb.Error as exc:
        raise _Refused(f"unreadable Parquet file ({_safe(str(exc))})") from exc
    names = [(r[0], str(r[1])) for r in described if r[0] != "file_row_number"]
    positions, extra = _match_columns(table, [n for n, _ in names])
    _check_required(table, set(positions), "parquet")
    exprs: dict[str, str] = {}
    for col, i in positions.items():
        name, dtype = names[i]
        exprs[col] = f"to_json({_q(name)})" if _NESTED_TYPE.search(dtype) else _q(name)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_src AS
        SELECT file_row_number + 1 AS _line, NULL::VARCHAR AS _malformed,
               {_src_select(table, exprs)}
        FROM {src}
        """
    )
    notes = [f"ignored extra column(s): {', '.join(extra)}"] if extra else []
    return _Staged(notes)


_STAGERS = {"csv": _stage_csv, "json": _stage_json, "parquet": _stage_parquet}


# --------------------------------------------------------------------------- validation


def _typed_expr(col: Column, v: str) -> str:
    """SQL turning trimmed text v into the contract type (NULL when unparseable)."""
    t = col.type.upper()
    if col.enum is not None:
        return f"lower({v})"
    if t == "VARCHAR":
        return v
    if t == "BOOLEAN":
        trues = ", ".join(_lit(w) for w in TRUE_WORDS)
        falses = ", ".join(_lit(w) for w in FALSE_WORDS)
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
    if col.type.upper() != "VARCHAR" and col.enum is None:
        out.append(f"CASE WHEN {v} IS NOT NULL AND {typed} IS NULL THEN 'invalid_type:{name}' END")
    if col.enum is not None:
        allowed = ", ".join(_lit(e.lower()) for e in col.enum)
        out.append(
            f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN ({allowed}) "
            f"THEN 'unknown_enum:{name}' END"
        )
    if col.not_future:
        out.append(f"CASE WHEN {typed} > $future_limit THEN 'future_timestamp:{name}' END")
    if col.non_negative:
        out.append(f"CASE WHEN {typed} < 0 THEN 'negative_value:{name}' END")
    return out


def _validate_and_load(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source_file: str,
    file_hash: str,
    loaded_at: datetime,
    now: datetime,
    erasure: frozenset[str],
) -> tuple[int, int, int, int]:
    """Validate temp._ing_src against the contract and insert into raw/quarantine."""
    cols = table.columns
    inner = ", ".join(f"{_trimmed(_q(c.name))} AS v_{c.name}" for c in cols)
    typed = ", ".join(f"{_typed_expr(c, f'v_{c.name}')} AS t_{c.name}" for c in cols)
    reasons = [r for c in cols for r in _reason_exprs(c)]
    base = f"NULLIF(concat_ws('; ', {', '.join(reasons)}), '')"
    key_typed = ", ".join(f"t_{k}" for k in table.key)
    key_present = " AND ".join(f"t_{k} IS NOT NULL" for k in table.key)
    erased = _erased_condition(table, erasure)
    check_sql = f"""
        CREATE OR REPLACE TEMP TABLE _ing_chk AS
        WITH typed AS (
            SELECT _line, _malformed, {", ".join(f"v_{c.name}" for c in cols)}, {typed}
            FROM (SELECT _line, _malformed, {inner} FROM temp._ing_src)
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
    # Tables without timestamps (products, order_items) have no $future_limit placeholder.
    params = (
        {"future_limit": now + timedelta(hours=FUTURE_SKEW_HOURS)}
        if "$future_limit" in check_sql
        else None
    )
    con.execute(check_sql, params)
    # Duplicate keys: only keys seen more than once are ranked (cheap when there are none).
    # The first occurrence without other problems is kept; every other occurrence except
    # the very first line of the key (which has its own reasons) is a duplicate.
    key_join = " AND ".join(f"c.t_{k} = d.t_{k}" for k in table.key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ing_dup AS
        SELECT _line FROM (
            SELECT c._line, row_number() OVER (
                       PARTITION BY {", ".join(f"c.t_{k}" for k in table.key)}
                       ORDER BY c._base IS NOT NULL, c._line) AS rn,
                   min(c._line) OVER (
                       PARTITION BY {", ".join(f"c.t_{k}" for k in table.key)}) AS first_line
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
    meta = "$source_file, _line, $file_hash, $loaded_at"
    params = {"source_file": source_file, "file_hash": file_hash, "loaded_at": loaded_at}
    raw_cols = ", ".join(_q(c.name) for c in cols + RAW_META_COLUMNS)
    con.execute(
        f"""
        INSERT INTO raw.{table.name} ({raw_cols})
        SELECT {", ".join(f"t_{c.name}" for c in cols)}, {meta}
        FROM temp._ing_chk WHERE _reason IS NULL
        """,
        params,
    )
    q_cols = ", ".join(_q(c.name) for c in cols + QUARANTINE_META_COLUMNS)
    # Erased people's values are not kept anywhere, not even in quarantine.
    q_vals = ", ".join(f"CASE WHEN b._erased THEN NULL ELSE s.{_q(c.name)} END" for c in cols)
    con.execute(
        f"""
        INSERT INTO quarantine.{table.name} ({q_cols})
        SELECT {q_vals}, b._reason, {meta.replace("_line", "b._line")}
        FROM (SELECT _line, _erased, _reason FROM temp._ing_chk WHERE _reason IS NOT NULL) b
        JOIN temp._ing_src s ON s._line = b._line
        ORDER BY b._line
        """,
        params,
    )
    read, quarantined, suppressed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _reason IS NOT NULL), "
        "count(*) FILTER (WHERE _erased) FROM temp._ing_chk"
    ).fetchone()
    return read, read - quarantined, quarantined, suppressed


# --------------------------------------------------------------------------- driver


def _ledger_insert(con: duckdb.DuckDBPyConnection, result: FileResult, started: datetime) -> None:
    """Record one file's outcome in raw.load_ledger."""
    con.execute(
        "INSERT INTO raw.load_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.file,
            result.file_hash,
            result.table,
            result.file_format,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.status,
            result.message,
            started,
            _wall_clock(),
        ],
    )


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: Table,
    now: datetime,
    erasure: frozenset[str] = frozenset(),
) -> FileResult:
    """Load one file atomically (raw + quarantine + ledger) or refuse/skip it."""
    started = _wall_clock()
    fmt = FILE_SUFFIXES[path.suffix.lower()]
    name = str(path.resolve())
    try:
        stats = _file_stats(path)
    except OSError as exc:
        message = f"{path.name} refused: cannot read file ({exc.strerror}); nothing loaded"
        result = FileResult(table.name, name, None, 0, 0, 0, REFUSED, message, fmt)
        _ledger_insert(con, result, started)
        return result
    already = con.execute(
        "SELECT count(*) FROM raw.load_ledger WHERE file_hash = ? AND table_name = ? "
        "AND status = ?",
        [stats.sha256, table.name, LOADED],
    ).fetchone()[0]
    if already:
        return FileResult(
            table.name,
            name,
            stats.sha256,
            0,
            0,
            0,
            SKIPPED,
            f"{path.name}: same content already loaded",
            fmt,
        )
    _cleanup(con)
    try:
        # Staging (read + parse into temp tables) writes nothing persistent.
        staged = _STAGERS[fmt](con, path, table, stats)
        con.begin()
        try:
            read, loaded, quarantined, suppressed = _validate_and_load(
                con, table, name, stats.sha256, now, now, erasure
            )
            erased = f" ({suppressed} of erased people, values blanked)" if suppressed else ""
            parts = [
                f"{path.name}: {read} rows read, {loaded} loaded, {quarantined} quarantined"
                + erased
            ]
            result = FileResult(
                table.name,
                name,
                stats.sha256,
                read,
                loaded,
                quarantined,
                LOADED,
                "; ".join(parts + staged.notes),
                fmt,
                suppressed,
            )
            _ledger_insert(con, result, started)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return result
    except _Refused as exc:
        message = f"{path.name} refused: {exc}; nothing loaded"
    except duckdb.Error as exc:
        message = (
            f"{path.name} refused: could not load {fmt} file ({_safe(str(exc))}); nothing loaded"
        )
    finally:
        _cleanup(con)
    result = FileResult(table.name, name, stats.sha256, 0, 0, 0, REFUSED, message, fmt)
    _ledger_insert(con, result, started)
    return result


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write with a user-facing error when it is locked."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.IOException as exc:
        raise IngestError(f"cannot open warehouse {warehouse}: {_safe(str(exc))}") from exc
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")  # staging rowid = file order
    return con


def ingest(
    landing: Path,
    warehouse: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Load every landing file into raw.* / quarantine.* and return what happened."""
    landing, warehouse = Path(landing), Path(warehouse)
    if not landing.is_dir():
        raise IngestError(f"landing folder not found: {landing}")
    found, ignored = _scan(landing)
    now = _utc_naive(now) if now is not None else _wall_clock()
    report = IngestReport(str(landing), str(warehouse))
    todo = [(path, TABLES[t]) for t in TABLES for path in found[t]]
    con = _connect(warehouse)
    try:
        ensure_schema(con)
        if not found["orders"]:
            has_orders = con.execute("SELECT count(*) FROM raw.orders").fetchone()[0]
            if not has_orders:
                raise IngestError(
                    f"no orders file found in {landing} (expected orders.csv, "
                    "orders_*.csv|.parquet|.jsonl or files in an orders/ folder)"
                )
        # Only segmint forget writes the erasure ledgers, and never during an ingest.
        erasure = _erasure_kinds(con)
        if progress:
            progress("ingest", 0, len(todo))
        for i, (path, table) in enumerate(todo, start=1):
            report.files.append(_ingest_file(con, path, table, now, erasure))
            if progress:
                progress(f"{table.name}: {path.name}", i, len(todo))
        for path in ignored:
            report.files.append(
                FileResult(
                    None,
                    str(path),
                    None,
                    0,
                    0,
                    0,
                    IGNORED,
                    f"{path.name}: matches no table (name or folder) or format",
                )
            )
    finally:
        con.close()
    return report
