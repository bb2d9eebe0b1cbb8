"""Compaction: rewrite a DuckDB file into a fresh one and swap it in atomically.

DuckDB reuses the blocks of deleted rows but does not wipe them, so an erased person's
email could still be read from the bytes of the file after `DELETE` + `CHECKPOINT`.
`compact` copies the live contents (schemas, tables, views, sequences, macros, comments:
`COPY FROM DATABASE`) into a new file next to it and renames that over the original, so no
freed block survives. A crash before the rename leaves the original untouched (the temp
file is swept by the next compaction). The caller holds the warehouse exclusively (no
other connection may be open on the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from segmint.fs import fsync_dir, pid_alive

_DEST = "_segmint_compact"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.name}.compact-{os.getpid()}")


def _sweep(path: Path) -> None:
    """Temp files of compactions whose process died (and this process's own leftovers)."""
    for p in path.parent.glob(f".{path.name}.compact-*"):
        pid = p.name.rsplit("compact-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))):
            p.unlink(missing_ok=True)


def compact(path: Path) -> tuple[int, int]:
    """Rewrite the DuckDB file `path` without its freed blocks; (bytes before, after)."""
    path = Path(path)
    before = path.stat().st_size
    _sweep(path)
    # Fold the WAL into the file first: the new file must not meet an old WAL.
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    tmp = _temp(path)
    try:
        con = duckdb.connect()
        try:
            # The source keeps its own catalog name, so views that name it still bind.
            con.execute(f"attach {_literal(path)} as {_quote(path.stem)} (read_only)")
            con.execute(f"attach {_literal(tmp)} as {_DEST}")
            con.execute(f"copy from database {_quote(path.stem)} to {_DEST}")
            con.execute(f"detach {_DEST}")
        finally:
            con.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return before, path.stat().st_size
