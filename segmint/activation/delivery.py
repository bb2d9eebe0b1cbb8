"""Delivery of an export: files written atomically plus a manifest, or one Postgres sync.

Full mode sends every exported member; delta mode sends the adds and a removals file. The
holdout is never sent; erased customers' removals carry no identifiers (Postgres deletes
their rows by key).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from segmint.activation.audience import Audience, Destination
from segmint.activation.formats import FILE_FORMATS, ExportFormat, WriteStats
from segmint.activation.formats.postgres import sync_table
from segmint.activation.selection import Selection
from segmint.activation.state import ExportResult, utcnow
from segmint.activation.targeting import AudienceError, require_columns
from segmint.fs import atomic_file, sweep_stale_temps, write_json_atomic

Writer = Callable[[pa.Table, IO[bytes], Audience, Destination], WriteStats]


def _write(
    path: Path, role: str, writer: Writer, rows: pa.Table, audience: Audience, dest: Destination
) -> dict[str, Any]:
    """Write one export file atomically; its manifest entry."""
    with atomic_file(path) as (fh, info):
        stats = writer(rows, fh, audience, dest)
    return {
        "name": path.name,
        "role": role,
        "rows": stats.rows,
        "skipped": stats.skipped,
        "bytes": info.bytes,
        "sha256": info.sha256,
    }


def deliver_files(
    selection: Selection,
    result: ExportResult,
    audience: Audience,
    dest: Destination,
    out_dir: Path,
    placed: list[Path],
    started_at: datetime,
) -> None:
    """Members (or adds and removals) files and their manifest under
    <out_dir>/<audience>/<destination>/; every file placed is listed in `placed`."""
    fmt: ExportFormat = FILE_FORMATS[dest.format]
    folder = Path(out_dir) / audience.name / dest.destination_name
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)
    stem = f"{audience.name}__{dest.destination_name}__{result.run_id}"
    role = "members" if result.mode == "full" else "adds"

    members = selection.export_rows(fmt.columns(audience, dest))
    data_path = folder / f"{stem}__{role}{fmt.suffix}"
    entries = [_write(data_path, role, fmt.write_members, members, audience, dest)]
    placed.append(data_path)
    result.exported, result.skipped_no_identifier = entries[0]["rows"], entries[0]["skipped"]
    result.checksum = entries[0]["sha256"]
    if result.mode == "delta":
        removals = selection.removal_rows(fmt.removal_columns(audience, dest))
        removal_path = folder / f"{stem}__removals{fmt.suffix}"
        entries.append(
            _write(removal_path, "removals", fmt.write_removals, removals, audience, dest)
        )
        placed.append(removal_path)

    manifest_path = folder / f"{stem}.manifest.json"
    result.files = [folder / e["name"] for e in entries]
    payload = {
        "audience": audience.name,
        "description": audience.description,
        "destination": dest.destination_name,
        "format": dest.format,
        "format_spec": fmt.spec,
        "mode": result.mode,
        "replace_list": result.mode == "full",
        "run_id": result.run_id,
        "as_of_date": result.as_of_date,
        "started_at": started_at,
        "written_at": utcnow(),
        "holdout_share": audience.holdout_share,
        "counts": result.counts(),
        "files": entries,
        "checksum": result.checksum,
    }
    write_json_atomic(manifest_path, payload)
    placed.append(manifest_path)
    result.manifest = manifest_path


def deliver_postgres(
    selection: Selection,
    result: ExportResult,
    audience: Audience,
    dest: Destination,
    schema: dict[str, str],
    dsn: str | None,
) -> None:
    """Sync the members into the destination's Postgres table (DSN from `dsn` or its env var)."""
    dsn = dsn or os.environ.get(dest.dsn_env)
    if not dsn:
        raise AudienceError(
            [
                f"{audience.source}: set {dest.dsn_env} to the Postgres connection string "
                f"of destination {dest.destination_name}"
            ]
        )
    key = dest.key
    columns = [key, *[c for c in audience.columns if c != key]]
    require_columns(schema, columns, f"destination {dest.destination_name}")
    table = selection.export_rows(columns)
    table_name = dest.table or f"segmint_{audience.name}"
    stats = sync_table(
        dsn,
        table_name,
        key=key,
        column_types={c: schema[c] for c in columns},
        rows=table,
        removed_keys=selection.removed_keys(key, erased=False),
        erased_keys=selection.removed_keys(key, erased=True),
        on_remove=dest.on_remove,
        full=result.mode == "full",
        audience=audience.name,
        run_id=result.run_id,
    )
    result.exported = stats.upserted
    result.target = f"postgres:{table_name}"
