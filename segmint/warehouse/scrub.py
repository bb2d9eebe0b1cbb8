"""Scrub an erased person's contact values out of the files beside the warehouse.

After `segmint forget` the DuckDB files are rewritten (compact, publish); what else lives
under the warehouse folder (Dagster's run and event storage, compute logs, dbt logs and
artifacts, Great Expectations data docs and quality history) may have picked up a value,
e.g. an unexpected email listed by a failed expectation. `scrub_folder` finds every file
whose bytes contain one of the values (case-insensitively) and rewrites it:

- SQLite files (Dagster storage): each text column has the value replaced in SQL, then
  VACUUM rebuilds the file so no freed page keeps it;
- text files (HTML, JSON, logs, SQL, YAML, CSV...): the value is replaced, written
  atomically (temp file + rename);
- DuckDB files are skipped (compact and publish rewrite those);
- anything else (images, pickles) cannot be edited safely and is reported.

Replacements are "[erased]". Returns the files rewritten and the ones left as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from segmint.fs import atomic_file

REDACTED = "[erased]"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"
_TEXT_SUFFIXES = frozenset(
    {".html", ".htm", ".json", ".jsonl", ".log", ".txt", ".out", ".err", ".sql", ".yml",
     ".yaml", ".csv", ".md", ".xml", ".js", ".css", ".tsv"}
)  # fmt: skip


@dataclass
class ScrubReport:
    """Files rewritten and files that still hold a value (no values in here)."""

    rewritten: list[Path] = field(default_factory=list)
    left: list[Path] = field(default_factory=list)


def _pattern(values: set[str]) -> re.Pattern[bytes] | None:
    clean = sorted({v.strip() for v in values if v and len(v.strip()) >= 5}, key=len, reverse=True)
    if not clean:
        return None
    return re.compile(b"|".join(re.escape(v.encode("utf-8")) for v in clean), re.IGNORECASE)


def _is_duckdb(head: bytes) -> bool:
    return head[8:12] == _DUCKDB_MAGIC


def _scrub_sqlite(path: Path, values: set[str]) -> None:
    con = sqlite3.connect(path, timeout=30)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            qt = '"' + table.replace('"', '""') + '"'
            cols = [r[1] for r in con.execute(f"pragma table_info({qt})")]
            for col in cols:
                qc = '"' + col.replace('"', '""') + '"'
                for value in values:
                    # instr on lower() finds any case; replace() then covers the usual forms.
                    for form in {value, value.lower(), value.upper()}:
                        con.execute(
                            f"update {qt} set {qc} = replace({qc}, ?, ?) "
                            f"where typeof({qc}) = 'text' and instr({qc}, ?) > 0",
                            [form, REDACTED, form],
                        )
        con.commit()
        con.execute("vacuum")
        with contextlib.suppress(sqlite3.DatabaseError):
            con.execute("pragma wal_checkpoint(truncate)")
    finally:
        con.close()


def _scrub_text(path: Path, pattern: re.Pattern[bytes], data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    with atomic_file(path) as (fh, _):
        fh.write(pattern.sub(REDACTED.encode(), data))
    os.chmod(path, mode)


def scrub_folder(folder: Path, values: set[str]) -> ScrubReport:
    """Rewrite every file under `folder` (DuckDB files aside) that holds one of `values`."""
    report = ScrubReport()
    pattern = _pattern(values)
    if pattern is None or not Path(folder).is_dir():
        return report
    clean = {v.strip() for v in values if v and len(v.strip()) >= 5}
    for dirpath, _, names in os.walk(folder):
        for name in sorted(names):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if _is_duckdb(data[:16]) or name.endswith((".duckdb.wal", ".wal")):
                continue
            if not pattern.search(data):
                continue
            main = path.with_name(name[:-4]) if name.endswith(("-wal", "-shm")) else path
            if main.is_file() and main.read_bytes()[:16] == _SQLITE_MAGIC:
                _scrub_sqlite(main, clean)  # VACUUM + checkpoint empties its WAL too
            elif path.suffix.lower() in _TEXT_SUFFIXES:
                _scrub_text(path, pattern, data)
            else:
                report.left.append(path)
                continue
            if pattern.search(path.read_bytes()):
                report.left.append(path)
            else:
                report.rewritten.append(path)
    return report
