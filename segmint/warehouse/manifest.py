"""The manifest of a published snapshot: rows per table, and a check against the tables."""

from __future__ import annotations

from pathlib import Path

from segmint.warehouse.connection import connect

MANIFEST_TABLE = "_segmint.manifest"


def read_manifest(published: Path) -> dict[str, int]:
    """Rows per table recorded in a published file's manifest."""
    with connect(published, read_only=True) as con:
        rows = con.execute(f"select table_name, row_count from {MANIFEST_TABLE}").fetchall()
    return {name: int(n) for name, n in rows}


def verify_published(published: Path) -> dict[str, tuple[int, int]]:
    """Mismatches between the manifest and actual row counts ({} when consistent)."""
    bad: dict[str, tuple[int, int]] = {}
    with connect(published, read_only=True) as con:
        for name, expected in con.execute(
            f"select table_name, row_count from {MANIFEST_TABLE}"
        ).fetchall():
            schema, table = name.split(".", 1)
            (actual,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            if actual != expected:
                bad[name] = (int(expected), int(actual))
    return bad
