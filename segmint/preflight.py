"""What the CLI checks before any work starts, and the warehouse guard of each command.

A wrong flag used to surface after ingest and checks had run (a malformed --as-of failed
inside dbt after 35 s) or as a traceback. Everything a command is given is checked here
first and answered in one line: the warehouse path, the landing folder (explicit or the
default), the as-of date against the data's range, the audience folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from segmint.errors import SegmintError
from segmint.settings import Settings

AUDIENCES_HOW = (
    "set it with --audiences DIR, the SEGMINT_AUDIENCES variable or the `audiences:` key "
    "of segmint.yaml"
)


def is_explicit(settings: Settings, field: str, flag: object) -> bool:
    """Whether the user chose `field` (a flag, a SEGMINT_* variable or segmint.yaml)."""
    return flag is not None or field in settings.model_fields_set


def raw_span(warehouse: Path) -> tuple[date, date] | None:
    """(earliest, latest) date of the orders and events in raw; None when raw holds none."""
    from segmint.as_of import data_range
    from segmint.warehouse import check_database_file, connect

    check_database_file(warehouse)
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        return data_range(con)


def missing_landing_note(landing: Path, warehouse: Path) -> str:
    """A missing landing folder when raw already holds data: nothing new to ingest.

    SegmintError when raw holds nothing either (there is nothing to run on).
    """
    span = raw_span(warehouse)
    if span is None:
        raise SegmintError(
            f"landing folder not found: {landing.resolve()} (the default), and the warehouse "
            "holds no data yet: give the folder of your files, e.g. `segmint ingest DIR`"
        )
    return (
        f"no landing folder at {landing.resolve()}: nothing new to ingest; raw already holds "
        f"orders and events from {span[0]} to {span[1]}"
    )


def missing_landing(settings: Settings, explicit: bool) -> str:
    """Why a missing landing folder is fine (raw already holds data), else SegmintError."""
    if explicit:
        raise SegmintError(f"landing folder not found: {settings.landing}")
    return missing_landing_note(settings.landing, settings.warehouse)


def audiences_note(folder: Path) -> str | None:
    """What to tell a user whose audience folder does not exist (None when it does)."""
    if folder.is_dir():
        return None
    return f"no audience folder at {folder.resolve()}: no audience is exported; {AUDIENCES_HOW}"


def check_run(settings: Settings, explicit_landing: bool) -> list[str]:
    """Check what a run is given before it starts; notes for the user (SegmintError else).

    The as-of range is checked against raw as loaded now when another process does not
    hold the warehouse (the pipeline checks it again after ingest, before dbt).
    """
    from segmint.as_of import check_as_of, parse_as_of
    from segmint.warehouse import WarehouseBusy, check_database_file, exclusive_use

    check_database_file(settings.warehouse)
    as_of = parse_as_of(settings.as_of)
    notes: list[str] = []
    landing_missing = not settings.landing.is_dir()
    if landing_missing and explicit_landing:
        raise SegmintError(f"landing folder not found: {settings.landing}")
    if landing_missing and settings.source is not None:
        landing_missing = False  # the run ingests from the source database
        notes.append(f"no landing folder at {settings.landing.resolve()}: ingesting from Postgres")
    if landing_missing or as_of is not None:
        try:
            with exclusive_use(settings.warehouse, "segmint run check", shared=True):
                if landing_missing:
                    notes.append(missing_landing(settings, explicit=False))
                try:
                    check_as_of(as_of, raw_span(settings.warehouse))
                except SegmintError as exc:
                    if landing_missing:
                        raise
                    raise SegmintError(
                        f"{exc} (as loaded so far: run `segmint ingest` first when new files "
                        "in the landing folder extend it)"
                    ) from None
        except WarehouseBusy:
            pass  # the run waits for the holder; the pipeline checks after ingest
    note = audiences_note(settings.audiences)
    if note:
        notes.append(note)
    return notes


@contextlib.contextmanager
def holding(settings: Settings, purpose: str, shared: bool) -> Iterator[None]:
    """Hold the warehouse for a command (shared: a reader); WarehouseBusy (75) when taken.

    A reader of a warehouse that does not exist yet takes nothing (its command says so).
    """
    from segmint.warehouse import check_database_file, exclusive_use

    check_database_file(settings.warehouse)
    if shared and not settings.warehouse.exists():
        yield
        return
    with exclusive_use(settings.warehouse, purpose, shared=shared):
        yield


def delimiter_hint(path: Path) -> str | None:
    """For a refused CSV file: the delimiter DuckDB's sniffer finds, when it is not a comma."""
    import duckdb

    if ".csv" not in "".join(Path(path).suffixes).lower():
        return None
    con = duckdb.connect()
    try:
        row = con.execute("select Delimiter from sniff_csv(?)", [str(path)]).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    found = row[0] if row else None
    if not found or found == ",":
        return None
    shown = {"\t": "tab", ";": "';' (semicolon)", "|": "'|' (pipe)"}.get(found, repr(found))
    return (
        f"DuckDB's sniffer reads this file as {shown}-delimited; segmint reads comma-separated "
        "CSV: export it with ',' as the delimiter"
    )
