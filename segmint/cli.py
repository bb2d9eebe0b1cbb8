"""The `segmint` command line: generate, ingest, run, status, sql, ui, audiences, forget.

The composition root: the one segmint module that may import orchestration (run, ui and
forget use orchestration.runner). Each command imports the modules it runs inside its body,
on purpose, so that `segmint --help` or `segmint sql` does not pay for Dagster (about 1.5 s
to import), numpy / pyarrow / pydantic (about 0.5 s) it never uses; none of these imports
hides a cycle (tests/test_import_layers.py checks the layers).
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from segmint.cli_audiences import audiences_app
from segmint.cli_common import (
    PIPE_WIDTH,
    AudFolderOpt,
    WarehouseOpt,
    _progress_callback,
    _settings,
    console,
    fail,
    out,
    plain_dbt_logs,
    progress_bar,
    quiet_teardown,
    refuse_on_spark,
    user_errors,
)
from segmint.errors import EXIT_NOT_FOUND, SegmintError

__all__ = ["PIPE_WIDTH", "app", "console", "fail", "main", "out"]

app = typer.Typer(
    help="segmint: customer analytics warehouse (dbt + DuckDB + Dagster).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _startup() -> None:
    atexit.register(quiet_teardown)  # registered first, so it runs after every other


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
    departments: Annotated[
        int | None,
        typer.Option(help="Label the catalogue in this many departments (a grocery: e.g. 32)"),
    ] = None,
    basket_scale: Annotated[
        float, typer.Option(help="Multiply the extra lines per order (bigger baskets, e.g. 4)")
    ] = 1.0,
    identity: Annotated[
        bool,
        typer.Option(
            "--identity",
            help="Add duplicate and guest records, extra and shared devices (truth in _truth/)",
        ),
    ] = False,
    past_exports: Annotated[
        bool,
        typer.Option(
            "--past-exports",
            help="Also simulate a year of past audience exports with holdouts (and the orders "
            "they caused) and record them in the warehouse's activation tables",
        ),
    ] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write realistic sample raw data (the contract tables) to a landing folder."""
    from segmint.sample import generate as run_generate

    if fmt not in ("csv", "parquet"):
        raise SegmintError(f"unknown format {fmt!r}: use csv or parquet")
    if customers < 1 or days < 1:
        raise SegmintError("--customers and --days must be positive")
    if not 0.0 <= dirt_rate <= 1.0:
        raise SegmintError(f"--dirt-rate {dirt_rate} is not a share: give 0 to 1")
    if departments is not None and departments < 1:
        raise SegmintError("--departments must be 1 or more")
    if not 0.0 < basket_scale <= 50.0:
        raise SegmintError("--basket-scale must be above 0 and at most 50")
    weights = _currency_weights(currencies) if currencies else None
    s = _settings(warehouse=warehouse) if past_exports else None
    history = s.warehouse.parent / "sample_export_history" if s else None
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
            departments=departments,
            basket_scale=basket_scale,
            identity=identity,
            export_history=history,
        )
    table = Table("table", "rows", title=f"generated into {out_dir}")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    if s is not None and history is not None:
        _record_past_exports(s, history)


def _record_past_exports(s: Any, history: Path) -> None:
    """Record the generated export history in the warehouse (as segmint's exports would)."""
    import duckdb

    from segmint.preflight import holding
    from segmint.sample.history import record_export_history

    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with holding(s, "segmint generate", shared=False), duckdb.connect(str(s.warehouse)) as con:
        runs = record_export_history(con, history)
    out.print(f"recorded {runs} past export runs in {s.warehouse}")


@app.command()
@user_errors
def ingest(
    landing: Annotated[Path | None, typer.Argument(help="Landing folder (SEGMINT_LANDING)")] = None,
    warehouse: WarehouseOpt = None,
    from_postgres: Annotated[
        bool,
        typer.Option(
            "--from-postgres",
            help="Read the operational Postgres of setting `source` (DSN from its env var) "
            "instead of the landing folder: only rows changed since the last ingest",
        ),
    ] = False,
) -> None:
    """Load landing files (or, with --from-postgres, the source database's changed rows)
    into raw.* (bad rows to quarantine.*, refused files reported).

    Exit code 1 when a file was refused, 75 while a run or erasure holds the warehouse.
    """
    from segmint.ingest import ingest as run_ingest
    from segmint.preflight import holding, is_explicit, missing_landing

    s = _settings(landing=landing, warehouse=warehouse)
    if from_postgres:
        _ingest_postgres(s, landing)
        return
    explicit = is_explicit(s, "landing", landing)
    if explicit and not s.landing.is_dir():
        raise SegmintError(f"landing folder not found: {s.landing}")
    # The lock a run holds from its first step to publish: no ingest slips in between.
    with holding(s, "segmint ingest", shared=False):
        if not s.landing.is_dir():
            console.print(escape(missing_landing(s, explicit=False)))
            return
        with progress_bar() as progress:
            report = run_ingest(s.landing, s.warehouse, progress=_progress_callback(progress))
    print_ingest_report(report)
    if any(f.status == "refused" for f in report.files):
        raise typer.Exit(1)


def _ingest_postgres(s: Any, landing: Path | None) -> None:
    """segmint ingest --from-postgres: dlt extract, then the landing contract's load."""
    from segmint.ingest.batches import ingest_postgres
    from segmint.preflight import holding

    if landing is not None:
        raise SegmintError("give either a landing folder or --from-postgres, not both")
    if s.source is None:
        raise SegmintError(
            "--from-postgres needs the `source` setting (segmint.yaml): source.tables with "
            "orders and its cursor column, source.dsn_env naming the env var of the DSN"
        )
    with holding(s, "segmint ingest", shared=False), progress_bar() as progress:
        report = ingest_postgres(s.source, s.warehouse, progress=_progress_callback(progress))
    print_ingest_report(report)
    if report.rows_read == 0 and not report.files_refused:
        out.print("no new rows in the source since the last ingest")
    if any(f.status == "refused" for f in report.files):
        raise typer.Exit(1)


def print_ingest_report(report: Any) -> None:
    table = Table("table", "file", "status", "read", "loaded", "quarantined", title="ingest")
    for f in report.files:
        table.add_row(
            f.table or "-",
            f.file.split(":", 1)[1] if f.file.startswith("postgres:") else Path(f.file).name,
            f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
        )
    out.print(table)
    from segmint.preflight import delimiter_hint

    for f in report.files:
        if f.status == "refused":
            hint = delimiter_hint(Path(f.file))
            message = f"{f.message}; {hint}" if hint else f.message
            console.print(f"[yellow]refused[/] {escape(f.file)}: {escape(message)}")


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
    audiences: AudFolderOpt = None,
    warehouse: WarehouseOpt = None,
    retrain: Annotated[
        bool,
        typer.Option(
            "--retrain",
            help="Refit every model now (default: score with the stored champions, refit "
            "when due: cadence, drift, moved window or changed code)",
        ),
    ] = False,
) -> None:
    """Materialize the pipeline in process (ingest → dbt → checks → models → exports → publish).

    Every option is checked before any work: a malformed or out-of-range --as-of, a missing
    --landing or a warehouse path that is not a DuckDB file is one line and exit code 2.
    """
    from segmint.preflight import check_run, is_explicit

    s = _settings(landing=landing, warehouse=warehouse, as_of=as_of, audiences=audiences)
    notes = check_run(s, explicit_landing=is_explicit(s, "landing", landing))
    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if not console.is_terminal:  # dbt and Dagster log lines carry no ANSI codes either
        plain_dbt_logs()
    from orchestration.runner import run_pipeline

    summary = run_pipeline(s, selection=select, console=console, retrain=retrain)
    summary.print(out)
    if summary.traceback:  # a bug inside a step (a user error prints its message only)
        console.print(summary.traceback, markup=False, highlight=False)
    for note in notes:  # after the summary too: the run's output has scrolled them away
        console.print(f"[yellow]note:[/] {escape(note)}")
    if not summary.success:
        raise typer.Exit(1)


@app.command()
@user_errors
def watch(
    interval: Annotated[
        float, typer.Option(help="Seconds between looks at the landing folder")
    ] = 30.0,
    select: Annotated[str | None, typer.Option(help="Dagster asset selection of each run")] = None,
    landing: Annotated[Path | None, typer.Option(help="Landing folder")] = None,
    audiences: AudFolderOpt = None,
    warehouse: WarehouseOpt = None,
    runs: Annotated[
        int | None, typer.Option(help="Stop after this many runs (default: never)")
    ] = None,
) -> None:
    """Run the pipeline whenever files land (the UI's landing sensor, without the UI).

    Each pass that finds new or changed files runs `segmint run` once; already-loaded files
    are skipped. Ctrl-C stops (a run it interrupts is recovered by the next, like a crash).
    """
    from segmint.preflight import check_run, is_explicit

    s = _settings(landing=landing, warehouse=warehouse, audiences=audiences)
    for note in check_run(s, explicit_landing=is_explicit(s, "landing", landing)):
        console.print(f"[yellow]note:[/] {escape(note)}")
    if not console.is_terminal:
        plain_dbt_logs()
    from orchestration.runner import run_pipeline
    from orchestration.watch import watch_landing

    def one_run(new: list[str]) -> None:
        console.print(f"{len(new)} new or changed file(s) in {s.landing}: running")
        summary = run_pipeline(s, selection=select, console=console)
        summary.print(out)
        if summary.traceback:
            console.print(summary.traceback, markup=False, highlight=False)

    console.print(f"watching {s.landing} every {interval:g} s (Ctrl-C stops)")
    try:
        watch_landing(s.landing, one_run, interval, max_runs=runs)
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
@user_errors
def status(warehouse: WarehouseOpt = None) -> None:
    """What is loaded, quarantined, built and published (exit code 75 while a run writes)."""
    from segmint.preflight import holding
    from segmint.status import collect_status

    s = _settings(warehouse=warehouse)
    with holding(s, "segmint status", shared=True):
        tables = collect_status(s)
    for table in tables:
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
    """Query the published snapshot (read-only) and print a table, CSV or JSON.

    The connection cannot write or read other files (no COPY TO, EXPORT, ATTACH, INSTALL),
    also with --working; only queries run. JSON is strict (NaN and Infinity become null).
    """
    from segmint import query as q
    from segmint.preflight import holding

    if fmt not in q.FORMATS:
        raise SegmintError(f"unknown format {fmt!r}: use table, csv or json")
    s = _settings(warehouse=warehouse)
    if not working:
        refuse_on_spark(s, "sql")
    path = s.warehouse if working else s.published_path
    if not path.exists():
        raise SegmintError(f"no warehouse at {path}: run `segmint run` first")
    # The published snapshot is swapped in atomically: readers need no lock. The working
    # file is shared with a run's writers: wait for none, answer busy (75).
    with holding(s, "segmint sql", shared=True) if working else contextlib.nullcontext():
        result = q.run_query(path, query)
    if result is None:
        return
    cols, rows = result
    if fmt == "csv":
        q.write_csv(cols, rows, sys.stdout)
    elif fmt == "json":
        q.write_json(cols, rows, sys.stdout)
    else:
        table = Table(*cols)
        for r in rows:
            table.add_row(*(q.display(v) for v in r))
        out.print(table)
        console.print(f"{len(rows)} row(s) from {escape(str(path))}")


@app.command()
@user_errors
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on (1-65535)")] = 3000,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (default: this machine only)")
    ] = "127.0.0.1",
    warehouse: WarehouseOpt = None,
) -> None:
    """Start the Dagster UI (dagster dev) with the segmint code location loaded."""
    from orchestration.ui import dagster_dev

    code = dagster_dev(_settings(warehouse=warehouse), port=port, host=host, console=console)
    if code not in (0, None):
        raise typer.Exit(code)


@app.command()
@user_errors
def init(
    folder: Annotated[Path, typer.Argument(help="Project folder (created if missing)")] = Path("."),
) -> None:
    """Start a project: segmint.yaml, audiences/ with three examples, an empty landing/."""
    from segmint.project import NEXT_COMMANDS, init_project

    result = init_project(folder)
    for path in result.written:
        out.print(f"wrote {path.relative_to(result.folder)}", soft_wrap=True, highlight=False)
    here = Path.cwd().resolve()
    cd = [] if result.folder == here else [f"cd {result.folder}"]
    out.print("next:")
    for command in [*cd, *NEXT_COMMANDS]:
        out.print(f"  {escape(command)}", soft_wrap=True, highlight=False)


def main() -> None:  # pragma: no cover
    app()


app.add_typer(audiences_app, name="audiences")


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

    Refuses while a pipeline run holds the warehouse (exit code 75: retry later). An id or
    email found nowhere exits with code 3 and says whether a suppression was recorded.
    """
    from orchestration.runner import running_pipeline_runs
    from segmint.erasure import EXIT_RUN_IN_PROGRESS, RunInProgressError
    from segmint.erasure import forget as run_forget
    from segmint.warehouse import check_database_file

    s = _settings(warehouse=warehouse)
    refuse_on_spark(s, "forget")
    check_database_file(s.warehouse)  # a folder is not "locked by a run"
    try:
        report = run_forget(
            s, customer_id=customer_id, email=email, live_runs=lambda: running_pipeline_runs(s)
        )
    except RunInProgressError as exc:
        console.print(f"[bold red]busy, retry:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_RUN_IN_PROGRESS) from None
    if report.total == 0 and not report.already_erased:
        # Nobody matched: say so, and that the suppression stands (later files are dropped).
        who = "customer id" if customer_id is not None else "email"
        console.print(
            f"[yellow]not found:[/] no row of this {who} in any layer; a suppression was "
            f"recorded ({len(report.customer_id_hashes)} customer id hash(es) in the erasure "
            "ledger), so files delivered later leave this person out"
        )
        raise typer.Exit(EXIT_NOT_FOUND)
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
        f"{ids.get('order_id', 0)} order id hash(es), {ids.get('anonymous_id', 0)} "
        f"anonymous id hash(es) and {ids.get('email', 0)} e-mail hash(es) recorded"
    )


if __name__ == "__main__":  # python -m segmint.cli
    main()
