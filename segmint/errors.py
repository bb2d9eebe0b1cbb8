"""User-facing errors: printed as one line by the CLI, never as a traceback.

Exit codes of the `segmint` command (documented in the README's CLI section):
0 done; 1 the work ran and found problems (a failed run, refused files, invalid
audiences); 2 a mistake in the command or its input (EXIT_USAGE); 3 `forget` found nobody
but recorded a suppression (EXIT_NOT_FOUND); 75 the warehouse is busy, retry (EXIT_BUSY,
EX_TEMPFAIL of sysexits.h).
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_BUSY = 75  # EX_TEMPFAIL: try again later


class SegmintError(Exception):
    """A mistake the user can fix (missing folder, unknown table, bad option)."""

    exit_code = EXIT_USAGE


class BusyError(SegmintError):
    """Another segmint process holds the warehouse: retry later (exit code 75)."""

    exit_code = EXIT_BUSY


def user_error_from(exc: BaseException) -> SegmintError | None:
    """The DuckDB error a user can act on as a SegmintError; None for anything else.

    Matched on DuckDB's messages (the Python classes are broad: IOException covers both a
    lock conflict and a disk error), without importing duckdb here.
    """
    if not type(exc).__module__.lstrip("_").startswith("duckdb"):
        return None
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    if "Could not set lock on file" in text:
        return BusyError(f"the warehouse is held by another process ({first.split(': ', 1)[-1]})")
    if "Is a directory" in text:
        return SegmintError(f"{first.split(': ', 1)[-1]}: give the path of a DuckDB file")
    if "not a valid DuckDB database file" in text:
        return SegmintError(first.split(": ", 1)[-1])
    return None
