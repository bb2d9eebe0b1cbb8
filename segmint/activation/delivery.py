"""Delivery of an export: files written atomically plus a manifest, or one Postgres sync.

Full mode sends every exported member (plus removals where the destination cannot replace
a list); delta mode sends the adds and the removals, each file only when it has rows. The
holdout is never sent; erased customers' removals carry only the pseudonymous key or the
hashes kept at erasure (Postgres deletes their rows by key).
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
    path: Path,
    role: str,
    writer: Writer,
    rows: pa.Table,
    context: tuple[ExportFormat, Audience, Destination],
    placed: list[Path],
) -> dict[str, Any]:
    """Write one export file atomically; its manifest entry. A removals or erasures file
    with no row to send is not left behind (its entry has no name)."""
    fmt, audience, dest = context
    with atomic_file(path) as (fh, info):
        stats = writer(rows, fh, audience, dest)
    entry: dict[str, Any] = {
        "name": path.name,
        "role": role,
        "rows": stats.rows,
        "skipped": stats.skipped,
        "dropped": stats.dropped,
        "bytes": info.bytes,
        "sha256": info.sha256,
    }
    job = fmt.job(audience, dest, role)
    if job:
        entry["job"] = job
    if stats.rows == 0 and role != "members":
        path.unlink()
        return {"name": None, "role": role, "rows": 0, "skipped": stats.skipped}
    placed.append(path)
    return entry


def _removal_entries(
    selection: Selection,
    context: tuple[ExportFormat, Audience, Destination],
    schema: dict[str, str],
    folder: Path,
    stem: str,
    placed: list[Path],
) -> list[dict[str, Any]]:
    """The removals file (and the erasures file of formats that have one), when anything
    is to be sent: people who left the audience, erased people's removals."""
    fmt, audience, dest = context
    columns = fmt.removal_columns(audience, dest)
    removed = selection.removal_rows(columns)
    erased = selection.erasure_rows(columns, schema)
    suffix = fmt.removal_suffix or fmt.suffix
    files: list[tuple[str, str, Writer, pa.Table]] = []
    if fmt.erasure_suffix is None:
        both = pa.concat_tables([removed, erased.cast(removed.schema)])
        files.append(("removals", suffix, fmt.write_removals, both))
    else:
        files.append(("removals", suffix, fmt.write_removals, removed))
        files.append(("erasures", fmt.erasure_suffix, fmt.write_erasures, erased))
    entries = []
    for role, ext, writer, rows in files:
        if rows.num_rows == 0:
            continue
        path = folder / f"{stem}__{role}{ext}"
        entries.append(_write(path, role, writer, rows, context, placed))
    return entries


def deliver_files(
    selection: Selection,
    result: ExportResult,
    audience: Audience,
    dest: Destination,
    out_dir: Path,
    placed: list[Path],
    started_at: datetime,
    schema: dict[str, str] | None = None,
) -> None:
    """Members (or adds and removals) files and their manifest under
    <out_dir>/<audience>/<destination>/; every file placed is listed in `placed`.

    Full mode writes the members file (even when empty: the list is then empty); formats
    that cannot replace a list also get the removals of members who left. Delta mode
    writes an adds file and a removals file only when there is something to send."""
    fmt: ExportFormat = FILE_FORMATS[dest.format]
    schema = schema or {}
    context = (fmt, audience, dest)
    folder = Path(out_dir) / audience.name / dest.destination_name
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)
    stem = f"{audience.name}__{dest.destination_name}__{result.run_id}"
    role = "members" if result.mode == "full" else "adds"

    optional = [c for c in fmt.optional_columns(audience, dest) if c in schema]
    members = selection.export_rows([*fmt.columns(audience, dest), *optional])
    entries: list[dict[str, Any]] = []
    if role == "members" or members.num_rows:
        data_path = folder / f"{stem}__{role}{fmt.suffix}"
        entries.append(_write(data_path, role, fmt.write_members, members, context, placed))
    if result.mode == "delta" or not fmt.supports_replace:
        entries += _removal_entries(selection, context, schema, folder, stem, placed)

    data = next((e for e in entries if e["role"] == role and e["name"]), None)
    result.exported = data["rows"] if data else 0
    result.skipped_no_identifier = sum(e["skipped"] for e in entries if e["role"] == role)
    result.removals_sent = sum(e["rows"] for e in entries if e["role"] != role)
    result.checksum = data["sha256"] if data else None
    result.files = [folder / e["name"] for e in entries if e["name"]]
    written = [e for e in entries if e["name"]]
    manifest_path = folder / f"{stem}.manifest.json"
    payload = {
        "audience": audience.name,
        "description": audience.description,
        "destination": dest.destination_name,
        "format": dest.format,
        "format_spec": fmt.spec,
        "mode": result.mode,
        "replace_list": result.mode == "full" and fmt.supports_replace,
        "removals_applied": fmt.removals,
        "run_id": result.run_id,
        "as_of_date": result.as_of_date,
        "started_at": started_at,
        "written_at": utcnow(),
        "holdout_share": audience.holdout_share,
        "counts": result.counts(),
        "sent": {e["role"]: e["rows"] for e in written},
        "files": written,
        "not_written": [e for e in entries if not e["name"]],
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
