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


def scan(landing: Path) -> tuple[dict[str, list[Path]], list[Path]]:
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
    return scan(landing)[0]
