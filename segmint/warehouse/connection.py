"""Short-lived DuckDB connections: one writer at a time, always closed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from segmint.errors import SegmintError

# Bytes 8..12 of every DuckDB database file (the main header: an 8-byte checksum, then the
# magic "DUCK"; https://duckdb.org/docs/stable/internals/storage).
DUCKDB_MAGIC = b"DUCK"


def check_database_file(path: Path) -> None:
    """SegmintError unless `path` is absent (made on first write) or a DuckDB database file."""
    path = Path(path)
    if path.is_dir():
        raise SegmintError(
            f"{path} is a folder, not a DuckDB file: give the warehouse file itself "
            f"(e.g. {path / 'segmint.duckdb'})"
        )
    if path.exists():
        with open(path, "rb") as f:
            head = f.read(12)
        if head[8:12] != DUCKDB_MAGIC:
            raise SegmintError(f"{path} is not a DuckDB database file: check the warehouse path")


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a DuckDB connection and always close it (one writer at a time)."""
    path = Path(path)
    check_database_file(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
