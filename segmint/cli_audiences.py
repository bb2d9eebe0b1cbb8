"""`segmint audiences`: list, validate, preview and export audience definitions.

Readers (list, validate, preview) share the warehouse; export holds it alone; while a run
holds it each answers "busy, retry" with exit code 75.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli_common import AudFolderOpt, WarehouseOpt, _settings, console, out, user_errors
from segmint.errors import SegmintError
from segmint.settings import Settings

audiences_app = typer.Typer(
    help="Audiences: list, validate, preview and export.", no_args_is_help=True
)


def _dbt_manifest(s: Settings) -> Path | None:
    from segmint.project import dbt_manifest

    manifest = dbt_manifest(s.warehouse)
    return manifest if manifest.exists() else None


def _working_con(s: Settings, read_only: bool = False):
    """A connection to the working file (read-write by default: the hash-key pads and the
    activation tables are made on first use; the caller holds the warehouse lock)."""
    import duckdb

    from segmint.warehouse import check_database_file

    check_database_file(s.warehouse)
    if not s.warehouse.exists():
        raise SegmintError(f"no warehouse at {s.warehouse}: run `segmint run` first")
    return duckdb.connect(str(s.warehouse), read_only=read_only)


def _audience_folder(s: Settings) -> Path:
    """The audience folder, or SegmintError naming the folder looked for and how to set it."""
    from segmint.preflight import AUDIENCES_HOW

    if not s.audiences.is_dir():
        folder = s.audiences.resolve()
        raise SegmintError(f"audience folder {folder} does not exist: {AUDIENCES_HOW}")
    return s.audiences


@audiences_app.command("list")
@user_errors
def audiences_list(audiences: AudFolderOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Audiences defined (YAML and dbt models tagged `audience`) and their last exports."""
    from segmint.activation import last_runs, validate_audiences
    from segmint.preflight import holding

    s = _settings(audiences=audiences, warehouse=warehouse)
    folder = _audience_folder(s)
    found, problems = validate_audiences(folder, dbt_manifest=_dbt_manifest(s))
    runs: dict[str, list[dict[str, Any]]] = {}
    if s.warehouse.exists():
        with holding(s, "segmint audiences list", shared=True):
            con = _working_con(s)
            try:
                for r in last_runs(con):
                    runs.setdefault(r["audience"], []).append(r)
            finally:
                con.close()
    table = Table(
        "audience", "destinations", "holdout", "last export", title=f"audiences in {folder}"
    )
    for a in found:
        last = ", ".join(
            f"{r['destination']}: {r['status']} ({r['exported']} sent)"
            for r in runs.get(a.name, [])
        )
        dests = ", ".join(d.destination_name for d in a.destinations)
        table.add_row(a.name, dests, f"{a.holdout_share:.0%}", last or "never")
    out.print(table)
    for p in problems:
        console.print(f"[red]invalid[/] {p}")
    if problems:
        raise typer.Exit(1)


@audiences_app.command("validate")
@user_errors
def audiences_validate(audiences: AudFolderOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Check every audience against the real columns and types of customer_targeting."""
    from segmint.activation import validate_audiences
    from segmint.preflight import holding

    s = _settings(audiences=audiences, warehouse=warehouse)
    folder = _audience_folder(s)
    with holding(s, "segmint audiences validate", shared=True):
        con = _working_con(s) if s.warehouse.exists() else None
        try:
            found, problems = validate_audiences(folder, con, dbt_manifest=_dbt_manifest(s))
        finally:
            if con is not None:
                con.close()
    for p in problems:
        console.print(f"[red]invalid[/] {p}")
    if con is None:
        console.print("[yellow]no warehouse yet: checked structure only, not columns/types[/]")
    out.print(f"{len(found)} valid audience(s), {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@audiences_app.command("preview")
@user_errors
def audiences_preview(
    name: Annotated[str, typer.Argument(help="Audience name")],
    limit: Annotated[int, typer.Option(help="Sample rows to show")] = 10,
    audiences: AudFolderOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Who would be exported now (counts and a masked sample); changes nothing."""
    from segmint.activation import get_audience, preview_audience
    from segmint.preflight import holding

    if limit < 0:
        raise SegmintError("--limit must be 0 or more")
    s = _settings(audiences=audiences, warehouse=warehouse)
    folder = _audience_folder(s)
    with holding(s, "segmint audiences preview", shared=True):
        con = _working_con(s)
        try:
            aud = get_audience(name, folder, con, dbt_manifest=_dbt_manifest(s))
            preview = preview_audience(con, aud, s.holdout_salt, limit=limit)
        finally:
            con.close()
    counts = Table("what", "customers", title=f"audience {name} now")
    for label in ("matched", "members", "holdout", "would_export"):
        counts.add_row(label.replace("_", " "), f"{getattr(preview, label):,}")
    counts.add_row("excluded: no consent", f"{preview.excluded_no_consent:,}")
    counts.add_row("excluded: erased", f"{preview.excluded_erased:,}")
    out.print(counts)
    if preview.sample:
        sample = Table(*preview.sample[0].keys(), title="sample (contact fields masked)")
        for row in preview.sample:
            sample.add_row(*("" if v is None else str(v) for v in row.values()))
        out.print(sample)


@audiences_app.command("export")
@user_errors
def audiences_export(
    name: Annotated[str, typer.Argument(help="Audience name")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Destination or format: hubspot, salesforce, mailchimp, google_ads, meta, "
            "csv, parquet, jsonl, postgres",
        ),
    ],
    mode: Annotated[str, typer.Option(help="full or delta")] = "delta",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Export folder")] = None,
    audiences: AudFolderOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Export one audience (consent and erasure enforced; holdout never sent)."""
    from segmint.activation import export_audience, get_audience
    from segmint.preflight import holding

    if mode not in ("full", "delta"):
        raise SegmintError(f"unknown mode {mode!r}: use full or delta")
    s = _settings(audiences=audiences, warehouse=warehouse, exports=out_dir)
    folder = _audience_folder(s)
    with holding(s, "segmint audiences export", shared=False):
        con = _working_con(s)
        try:
            aud = get_audience(name, folder, con, dbt_manifest=_dbt_manifest(s))
            result = export_audience(con, aud, to, s.exports, mode, s.holdout_salt)
        finally:
            con.close()
    meta = result.metadata()
    table = Table("what", "value", title=f"export {name} → {to} ({mode})")
    for k, v in meta.items():
        table.add_row(str(k), str(v))
    out.print(table)
