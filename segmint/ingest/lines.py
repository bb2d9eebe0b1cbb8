"""Physical lines of a text landing file: mixed line endings, record starts, raw text.

Line numbers count physical lines of the file, i.e. b"\\n" (a "\\r\\n" is one line end).
DuckDB's strict CSV reader refuses a file whose line endings are mixed (a CRLF header
followed by LF rows), so such a file is read from a copy with every "\\r\\n" turned into
"\\n" (same physical lines). Record starts come from Python's csv module fed with the
file's physical lines (quotes count only where a field starts, as in DuckDB), and the
raw text of quarantined records is read back from the file by line number.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

_CHUNK = 4 * 1024 * 1024


def lf_copy(path: Path) -> Path:
    """A temporary copy of `path` with every CRLF turned into LF (caller deletes it)."""
    fd, name = tempfile.mkstemp(prefix="segmint-ingest-", suffix=path.suffix)
    carry = b""
    with os.fdopen(fd, "wb") as out, path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            out.write(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
        out.write(carry)
    return Path(name)


def _decoded(path: Path):
    with path.open("rb") as fh:
        for raw in fh:  # binary iteration splits on b"\n" only: physical lines
            yield raw.decode("utf-8", "replace")


def record_starts(path: Path) -> pa.Table | None:
    """(p, d) per non-blank record after the header: its first physical line and DuckDB's
    record number (which counts blank lines but not newlines inside quoted values); None
    when Python's csv module cannot follow the file (the caller falls back)."""
    starts: list[int] = []
    numbers: list[int] = []
    reader = csv.reader(_decoded(path), delimiter=",", quotechar='"', strict=False)
    previous = 0
    try:
        for d, row in enumerate(reader, start=1):
            if d > 1 and row and not (len(row) == 1 and row[0].strip(" \r") == ""):
                starts.append(previous + 1)
                numbers.append(d)
            previous = reader.line_num
    except csv.Error:
        return None
    return pa.table({"p": pa.array(starts, pa.int64()), "d": pa.array(numbers, pa.int64())})


def fetch_raw_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """temp._ing_raw(_line, _raw_line): the text of the records in temp._ing_want(_line,
    _next): physical lines _line up to before _next (the next record's line), trailing
    line ends and blank lines dropped; bytes that are not UTF-8 become U+FFFD."""
    wanted = con.execute("SELECT _line, _next FROM temp._ing_want ORDER BY _line").fetchall()
    lines: list[int] = []
    texts: list[str] = []
    pending = iter(wanted)
    current = next(pending, None)
    parts: list[str] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            while current is not None and current[1] is not None and number >= current[1]:
                current = _flush(current, parts, lines, texts, pending)
            if current is None:
                break
            if number >= current[0]:
                parts.append(raw.decode("utf-8", "replace"))
    while current is not None:
        current = _flush(current, parts, lines, texts, pending)
    table = pa.table(
        {"_line": pa.array(lines, pa.int64()), "_raw_line": pa.array(texts, pa.string())}
    )
    con.register("_ing_raw_arrow", table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _ing_raw AS SELECT * FROM _ing_raw_arrow")
    finally:
        con.unregister("_ing_raw_arrow")


def _flush(current, parts, lines, texts, pending):
    """Close the current wanted record and return the next one."""
    text = "".join(parts).rstrip("\r\n")
    lines.append(current[0])
    texts.append(text)
    parts.clear()
    return next(pending, None)
