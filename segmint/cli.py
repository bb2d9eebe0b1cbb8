"""The `segmint` command line: generate, ingest, run, status, sql, ui, audiences, forget.

The composition root: the one segmint module that may import orchestration (run, ui and
forget use orchestration.runner). Each command imports the modules it runs inside its body,
on purpose, so that `segmint --help` or `segmint sql` does not pay for Dagster (about 1.5 s
to import), numpy / pyarrow / pydantic (about 0.5 s) it never uses; none of these imports
hides a cycle (tests/test_import_layers.py checks the layers).
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from segmint.errors import SegmintError
from segmint.settings import Settings, get_settings

app = typer.Typer(
    help="segmint: customer analytics warehouse (dbt + DuckDB + Dagster).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()

WarehouseOpt = Annotated[
    Path | None, typer.Option("--warehouse", "-w", help="Working DuckDB file (SEGMINT_WAREHOUSE)")
]


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected user mistakes into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (SegmintError, FileNotFoundError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None

    return wrapper


def _settings(**overrides: Any) -> Settings:
    base = get_settings()
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _progress_callback(progress: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    return update


def _currency_weights(text: str) -> dict[str, float]:
    """'EUR=0.7,GBP=0.3' -> {'EUR': 0.7, 'GBP': 0.3} (a bare code weighs 1)."""
    from segmint.sample.fx import check_currencies

    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, _, weight = part.partition("=")
        try:
            weights[code.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise SegmintError(f"--currencies: {part!r} is not CODE=WEIGHT") from None
    try:
        return check_currencies(weights) or {}
    except ValueError as exc:
        raise SegmintError(f"--currencies: {exc}") from None


@app.command()
@user_errors
def generate(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write")] = Path("landing"),
    customers: Annotated[int, typer.Option(help="Number of customers")] = 5000,
    days: Annotated[int, typer.Option(help="Days of history")] = 730,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes)")] = 42,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    dirt_rate: Annotated[float, typer.Option(help="Share of deliberately dirty rows")] = 0.002,
    currencies: Annotated[
        str | None,
        typer.Option(
            help="Customers' currencies with weights, e.g. EUR=0.7,GBP=0.3 (default: by country)"
        ),
    ] = None,
) -> None:
    """Write realistic sample raw data (the contract tables) to a landing folder."""
    from segmint.sample import generate as run_generate

    if fmt not in ("csv", "parquet"):
        raise SegmintError(f"unknown format {fmt!r}: use csv or parquet")
    if customers < 1 or days < 1:
        raise SegmintError("--customers and --days must be positive")
    weights = _currency_weights(currencies) if currencies else None
    with progress_bar() as progress:
        counts = run_generate(
            out_dir,
            customers=customers,
            days=days,
            seed=seed,
            fmt=fmt,
            dirt_rate=dirt_rate,
            progress=_progress_callback(progress),
            currencies=weights,
        )
    table = Table("table", "rows", title=f"generated into {out_dir}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


@app.command()
@user_errors
def ingest(
    landing: Annotated[Path | None, typer.Argument(help="Landing folder (SEGMINT_LANDING)")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Load landing files into raw.* (bad rows to quarantine.*, refused files reported)."""
    from segmint.ingest import ingest as run_ingest

    s = _settings(landing=landing, warehouse=warehouse)
    if not s.landing.is_dir():
        raise SegmintError(f"landing folder not found: {s.landing}")
    with progress_bar() as progress:
        report = run_ingest(s.landing, s.warehouse, progress=_progress_callback(progress))
    print_ingest_report(report)


def print_ingest_report(report: Any) -> None:
    table = Table("table", "file", "status", "read", "loaded", "quarantined", title="ingest")
    for f in report.files:
        table.add_row(
            f.table or "-",
            Path(f.file).name,
            f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
        )
    out.print(table)
    for f in report.files:
        if f.status == "refused":
            console.print(f"[yellow]refused[/] {f.file}: {f.message}")


@app.command()
@user_errors
def run(
    as_of: Annotated[
        str | None, typer.Option(help="As-of date YYYY-MM-DD (default: latest)")
    ] = None,
    select: Annotated[
        str | None, typer.Option(help="Dagster asset selection, e.g. 'group:marts*' or a key")
    ] = None,
    landing: Annotated[Path | None, typer.Option(help="Landing folder")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Materialize the pipeline in process (ingest → dbt → checks → models → exports → publish)."""
    from orchestration.runner import run_pipeline

    s = _settings(landing=landing, warehouse=warehouse, as_of=as_of)
    summary = run_pipeline(s, selection=select, console=console)
    out.print(summary.render())
    if not summary.success:
        raise typer.Exit(1)


@app.command()
@user_errors
def status(warehouse: WarehouseOpt = None) -> None:
    """What is loaded, quarantined, built and published."""
    from segmint.status import collect_status

    s = _settings(warehouse=warehouse)
    for table in collect_status(s):
        out.print(table)


@app.command()
@user_errors
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (read-only) against the published file")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    working: Annotated[
        bool, typer.Option("--working", help="Query the working warehouse instead (read-only)")
    ] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Query the published snapshot (read-only) and print a table, CSV or JSON."""
    import duckdb

    s = _settings(warehouse=warehouse)
    path = s.warehouse if working else s.published_path
    if not path.exists():
        raise SegmintError(f"no warehouse at {path}: run `segmint run` first")
    if fmt not in ("table", "csv", "json"):
        raise SegmintError(f"unknown format {fmt!r}: use table, csv or json")
    con = duckdb.connect(str(path), read_only=True)
    try:
        try:
            rel = con.execute(query)
        except duckdb.Error as exc:
            raise SegmintError(str(exc).splitlines()[0]) from None
        if rel.description is None:
            return
        cols = [d[0] for d in rel.description]
        rows = rel.fetchall()
    finally:
        con.close()
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(cols)
        writer.writerows(rows)
    elif fmt == "json":
        sys.stdout.write(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], default=str))
        sys.stdout.write("\n")
    else:
        table = Table(*cols)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        out.print(table)
        console.print(f"{len(rows)} row(s) from {path}")


@app.command()
@user_errors
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 3000,
) -> None:
    """Start the Dagster UI (dagster dev) on 127.0.0.1 with segmint loaded."""
    from orchestration.runner import dagster_dev

    dagster_dev(_settings(), port=port)


def main() -> None:  # pragma: no cover
    app()


audiences_app = typer.Typer(
    help="Audiences: list, validate, preview and export.", no_args_is_help=True
)
app.add_typer(audiences_app, name="audiences")

AudFolderOpt = Annotated[
    Path | None, typer.Option("--audiences", help="Folder of audience YAML (SEGMINT_AUDIENCES)")
]


def _dbt_manifest() -> Path | None:
    manifest = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"
    return manifest if manifest.exists() else None


def _working_con(s: Settings):
    import duckdb

    if not s.warehouse.exists():
        raise SegmintError(f"no warehouse at {s.warehouse}: run `segmint run` first")
    return duckdb.connect(str(s.warehouse))


@audiences_app.command("list")
@user_errors
def audiences_list(audiences: AudFolderOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Audiences defined (YAML and dbt models tagged `audience`) and their last exports."""
    from segmint.activation import last_runs, validate_audiences

    s = _settings(audiences=audiences, warehouse=warehouse)
    found, problems = validate_audiences(s.audiences, dbt_manifest=_dbt_manifest())
    runs: dict[str, list[dict[str, Any]]] = {}
    if s.warehouse.exists():
        con = _working_con(s)
        try:
            for r in last_runs(con):
                runs.setdefault(r["audience"], []).append(r)
        finally:
            con.close()
    table = Table("audience", "destinations", "holdout", "last export", title="audiences")
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

    s = _settings(audiences=audiences, warehouse=warehouse)
    con = _working_con(s) if s.warehouse.exists() else None
    try:
        found, problems = validate_audiences(s.audiences, con, dbt_manifest=_dbt_manifest())
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

    s = _settings(audiences=audiences, warehouse=warehouse)
    con = _working_con(s)
    try:
        aud = get_audience(name, s.audiences, con, dbt_manifest=_dbt_manifest())
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

    s = _settings(audiences=audiences, warehouse=warehouse, exports=out_dir)
    con = _working_con(s)
    try:
        aud = get_audience(name, s.audiences, con, dbt_manifest=_dbt_manifest())
        result = export_audience(con, aud, to, s.exports, mode, s.holdout_salt)
    finally:
        con.close()
    meta = result.metadata()
    table = Table("what", "value", title=f"export {name} → {to} ({mode})")
    for k, v in meta.items():
        table.add_row(str(k), str(v))
    out.print(table)


@app.command()
@user_errors
def forget(
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="customer_id of the person to erase")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Email of the person to erase (any case)")
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Erase one person from every layer and republish (right to erasure, no PII kept).

    Refuses while a pipeline run holds the warehouse (exit code 75: retry later).
    """
    from orchestration.runner import running_pipeline_runs
    from segmint.erasure import EXIT_RUN_IN_PROGRESS, RunInProgressError
    from segmint.erasure import forget as run_forget

    s = _settings(warehouse=warehouse)
    try:
        report = run_forget(
            s, customer_id=customer_id, email=email, live_runs=lambda: running_pipeline_runs(s)
        )
    except RunInProgressError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_RUN_IN_PROGRESS) from None
    table = Table("layer", "rows deleted", title="erasure")
    for layer, n in report.per_layer().items():
        table.add_row(layer, f"{n:,}")
    out.print(table)
    if report.already_erased:
        console.print("[yellow]already in the erasure ledger[/]: leftovers removed again")
    if report.pending_removals:
        console.print(
            f"{report.pending_removals} audience membership(s) kept until the next export "
            "sends their removal"
        )
    if report.published:
        console.print(f"republished {report.published}")
    ids = report.identifiers_recorded
    console.print(
        f"ledger: {len(report.customer_id_hashes)} customer id hash(es), "
        f"{ids.get('order_id', 0)} order id hash(es) and {ids.get('anonymous_id', 0)} "
        "anonymous id hash(es) recorded"
    )
