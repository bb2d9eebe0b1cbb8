"""Which landing files belong to which contract table (by name, prefix or folder)."""

from __future__ import annotations

from pathlib import Path

from segmint.contract import FILE_SUFFIXES, TABLES
from segmint.ingest.report import IngestError


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


def _not_a_file(path: Path) -> str | None:
    """Why a landing entry that is no regular file cannot be loaded (None: a regular file,
    or a plain directory, which is only walked)."""
    if path.is_symlink() and not path.exists():
        return "a symbolic link whose target does not exist (or a link loop)"
    if path.is_dir():
        return (
            "a directory named like a data file" if path.suffix.lower() in FILE_SUFFIXES else None
        )
    if not path.is_file():
        return "not a regular file (a FIFO, socket or device); it is not opened"
    return None


def scan(
    landing: Path,
) -> tuple[dict[str, list[Path]], list[Path], list[tuple[Path, str | None, str]]]:
    """Files per table (sorted), the files that match no table, and the entries that are
    no regular file (path, table named like or None, why); those are never opened."""
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    ignored: list[Path] = []
    special: list[tuple[Path, str | None, str]] = []
    for path in sorted(landing.rglob("*")):
        why = _not_a_file(path)
        if why is not None:
            special.append((path, _table_for(path, landing), why))
            continue
        if not path.is_file():
            continue
        table = _table_for(path, landing)
        if table is None:
            ignored.append(path)
        else:
            found[table].append(path)
    return found, ignored, special


def discover(landing: Path) -> dict[str, list[Path]]:
    """Landing files per contract table (every table is a key), in sorted path order."""
    landing = Path(landing)
    if not landing.is_dir():
        raise IngestError(f"landing folder not found: {landing}")
    return scan(landing)[0]
