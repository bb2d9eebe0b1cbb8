"""Run the pipeline in process with a progress display (`segmint run`); `segmint ui` is in ui.py."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from rich.console import Console
from rich.table import Table

from orchestration.defs.ml.registry import RETRAIN_TAG
from orchestration.lib.jobs import PIPELINE_JOB_NAME
from orchestration.lib.prepare import dagster_home
from segmint.errors import SegmintError
from segmint.fs import pid_alive
from segmint.settings import Settings
from segmint.warehouse import WarehouseBusy, exclusive_use

PID_TAG = "segmint/pid"
# Dagster run statuses of a run that is (or may still be) executing steps.
RUNNING_STATUSES = ("STARTING", "STARTED", "CANCELING")


def prepare_environment(settings: Settings) -> Path:
    """Export the settings the code location and dbt read, and return DAGSTER_HOME."""
    if settings.engine == "spark":
        from segmint import spark

        reason = spark.java_missing()
        if reason:
            raise SegmintError(f"engine spark: {reason}")
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise SegmintError("engine spark needs pyspark: pip install 'segmint[spark]'") from None
    home = dagster_home(settings)
    os.environ["DAGSTER_HOME"] = str(home)
    # dbt and dagster live next to this interpreter; subprocesses (dagster dev's code
    # server, dagster-dbt's prepare_if_dev) find them without an activated venv.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ["SEGMINT_WAREHOUSE"] = str(settings.warehouse.resolve())
    os.environ["SEGMINT_LANDING"] = str(settings.landing.resolve())
    os.environ["SEGMINT_EXPORTS"] = str(settings.exports.resolve())
    os.environ["SEGMINT_ENGINE"] = settings.engine
    if settings.engine == "spark":  # the code location and dbt-spark read it
        os.environ["SEGMINT_SPARK_DIR"] = str(settings.spark_path.resolve())
    if settings.as_of:
        os.environ["SEGMINT_AS_OF"] = settings.as_of
    settings.warehouse.resolve().parent.mkdir(parents=True, exist_ok=True)
    return home


@dataclass
class RunSummary:
    success: bool
    run_id: str
    seconds: float
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # step, status, seconds
    materialized: dict[str, int | None] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    error: str | None = None
    published: str | None = None
    # The stack of a failed step's error when it is a bug (a user error has none).
    traceback: str | None = None

    def render(self) -> Table:
        """The steps table: step, status, seconds (the error in its last row)."""
        title = f"segmint run {'succeeded' if self.success else 'FAILED'} in {self.seconds:.1f}s"
        table = Table("step", "status", "seconds", title=title)
        for step, status, secs in self.steps:
            table.add_row(step, status, f"{secs:.1f}")
        if self.error:
            table.add_row("error", self.error[:300], "")
        return table

    def lines(self) -> list[str]:
        """After the table, one line each: every failed check in full (name, severity, the
        expectation and what was observed), then where the snapshot was published."""
        out = [f"check failed: {line}" for line in self.failed_checks]
        if self.published:
            out.append(f"published: {self.published}")
        return out

    def print(self, console: Console) -> None:
        """The table, then `lines()` unwrapped (a narrow terminal or a pipe must not cut a
        check's line in two)."""
        console.print(self.render())
        for line in self.lines():
            console.print(line, soft_wrap=True, highlight=False, markup=False)


LOCK_WAIT_SECONDS = 900

WATCHED = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}


def _watch(instance: dg.DagsterInstance, run_id: str, stop: threading.Event, console: Console):
    """Print step starts/ends while the run executes in another thread.

    Reads only the new events of the watched types (a cursor into the event log): re-reading
    the whole log every half second cost CPU, and the GIL, that the run thread needs.
    """
    cursor: str | None = None
    with console.status("starting…") as status:
        last = False
        while not last:
            # One more read after the run ended: a step that failed within the last half
            # second still gets its line.
            last = stop.is_set()
            try:
                page = instance.get_records_for_run(run_id, cursor=cursor, of_type=WATCHED)
            except Exception:  # the run may not exist yet
                page = None
            for record in page.records if page else []:
                ev = record.event_log_entry.dagster_event
                if ev is None:
                    continue
                if ev.event_type == dg.DagsterEventType.STEP_START:
                    status.update(f"running {ev.step_key}…")
                elif ev.event_type == dg.DagsterEventType.STEP_SUCCESS:
                    console.print(f"[green]✓[/] {ev.step_key}")
                elif ev.event_type == dg.DagsterEventType.STEP_FAILURE:
                    console.print(f"[red]✗[/] {ev.step_key}")
                elif ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                    data = ev.event_specific_data
                    if not data.passed:
                        console.print(
                            f"[yellow]check failed[/] {data.asset_key.to_user_string()}:"
                            f"{data.check_name} ({data.severity.value})"
                        )
            if page is not None and page.records:
                cursor = page.cursor
            if not last:
                stop.wait(0.5)


def running_pipeline_runs(settings: Settings) -> list[str]:
    """Dagster runs of this warehouse that are executing, described for a message.

    Reads the instance `segmint run` uses (<warehouse dir>/dagster). A run tagged with the
    pid of its `segmint run` process counts while that process lives (a killed one is
    released by the next `segmint run`); a run without the tag (started from the Dagster
    UI or a schedule) counts while Dagster says it is starting, started or canceling.
    `segmint forget` refuses to erase while this lists any run.
    """
    home = settings.warehouse.resolve().parent / "dagster"
    if not home.is_dir():
        return []
    try:
        instance = dg.DagsterInstance.from_config(str(home))
    except Exception as exc:  # a broken instance must not let an erasure race a run
        raise SegmintError(
            f"cannot read the pipeline run history in {home} ({type(exc).__name__}), so "
            "cannot tell whether a run is in progress. Nothing was erased; fix or remove "
            "that folder, then retry."
        ) from None
    found: list[str] = []
    try:
        statuses = [dg.DagsterRunStatus(s) for s in RUNNING_STATUSES]
        for record in instance.get_run_records(filters=dg.RunsFilter(statuses=statuses)):
            run = record.dagster_run
            pid = run.tags.get(PID_TAG)
            if pid is not None and pid.isdigit() and not pid_alive(int(pid)):
                continue
            who = (
                f"pid {pid}"
                if pid
                else "started outside `segmint run`; if it is dead, terminate it in the UI"
            )
            found.append(f"run {run.run_id[:8]} ({run.status.value.lower()}, {who})")
    finally:
        instance.dispose()
    return found


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail runs whose `segmint run` process died (e.g. SIGKILL) and free their pool slots.

    A killed run never releases its `duckdb_writer` slot, and with a pool limit of 1 every
    later run would wait for it forever. Only runs started by this CLI carry the pid tag.
    """
    released = []
    live = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=live)):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if pid is None or pid_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"segmint run process {pid} is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    storage = instance.event_log_storage
    for key in storage.get_concurrency_keys():
        for slot in storage.get_concurrency_info(key).claimed_slots:
            stale = instance.get_run_by_id(slot.run_id)
            if stale is None or stale.is_finished:
                storage.free_concurrency_slots_for_run(slot.run_id)
                released.append(slot.run_id)
    return sorted(set(released))


def run_pipeline(
    settings: Settings,
    selection: str | None = None,
    console: Console | None = None,
    extra_checks: list[dg.AssetChecksDefinition] | None = None,
    retrain: bool = False,
) -> RunSummary:
    """Materialize the selected assets (default: all) in this process, one writer at a time.

    `retrain`: every model refits instead of scoring with its stored champion (the run tag
    segmint/retrain=true, which the Dagster launchpad can set too)."""
    console = console or Console(stderr=True)
    prepare_environment(settings)
    from orchestration.definitions import build_definitions
    from orchestration.lib.prepare import prepare

    prepare(settings)
    defs = build_definitions(settings, extra_checks=extra_checks)
    job_name = PIPELINE_JOB_NAME
    if selection:
        graph = defs.resolve_asset_graph()
        try:
            picked = dg.AssetSelection.from_string(selection).resolve(graph)
        except Exception as exc:
            raise SegmintError(f"invalid selection {selection!r}: {exc}") from None
        if not picked:
            raise SegmintError(f"selection {selection!r} matches no asset")
        # A multi-asset step writes all its tables at once: select it whole (with its checks).
        keys = {k for key in picked for k in defs.resolve_assets_def(key).keys}
        job_name = "segmint_selection"
        picked_job = dg.define_asset_job(job_name, selection=dg.AssetSelection.assets(*keys))
        defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[picked_job]))
    job = defs.resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    for stale in release_dead_runs(instance):
        console.print(f"[yellow]released[/] the writer slot of dead run {stale[:8]}")
    run_id = str(uuid.uuid4())
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(instance, run_id, stop, console), daemon=True)
    watcher.start()
    started = time.monotonic()
    error = None
    try:
        # One segmint process at a time on this warehouse: a `segmint forget` in progress is
        # waited for (it takes seconds), rather than failing a step on DuckDB's file lock.
        with exclusive_use(
            settings.warehouse,
            "segmint run",
            wait_seconds=LOCK_WAIT_SECONDS,
            on_wait=lambda holder: console.print(f"[yellow]waiting[/] for {holder} to finish"),
        ):
            result = job.execute_in_process(
                # Dagster's own console log is replaced by the progress display and summary;
                # everything stays in the run's event log (segmint ui shows it).
                # Step failures are in the summary (a bug's stack too): no traceback on the
                # console for a user error raised inside a step.
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                instance=instance,
                run_id=run_id,
                raise_on_error=False,
                tags={
                    "segmint/trigger": "cli",
                    PID_TAG: str(os.getpid()),
                    **({RETRAIN_TAG: "true"} if retrain else {}),
                },
            )
        success = result.success
    except WarehouseBusy as exc:
        success, error = False, str(exc)
    except Exception as exc:  # definition errors surface here; report, don't hide
        success, error = False, f"{type(exc).__name__}: {exc}"
    finally:
        stop.set()
        watcher.join(timeout=5)
    summary = RunSummary(success=success, run_id=run_id, seconds=time.monotonic() - started)
    summary.error = error or summary.error
    _fill_summary(instance, summary, settings)
    instance.dispose()
    return summary


def step_error(error) -> tuple[str, str | None]:
    """(message, stack or None) of a step failure's innermost error (Dagster wraps it).

    A segmint user error (SegmintError and its kind, raised as `segmint.<module>.<Class>`)
    or a Dagster Failure is its message alone; anything else is a bug and keeps its stack.
    """
    root = error
    while root is not None and getattr(root, "cause", None) is not None:
        root = root.cause
    if root is None:
        return "step failed", None
    message = str(root.message).strip()
    if message.startswith("segmint.") or root.cls_name == "Failure":
        return message.split(": ", 1)[-1], None
    return message, "".join(root.stack or [])


def failed_check_line(data: Any) -> str:
    """One line per failed check: full name, severity, the expectation, the observed value.

    GX checks record each failed expectation with what was observed
    (`FailedExpectation.line()`); dbt checks carry the test's description and the number
    of failing rows.
    """
    name = f"{data.asset_key.to_user_string()}:{data.check_name}"
    meta = data.metadata or {}
    lines: list[str] = []
    for key in ("failed_errors", "failed_warnings"):
        value = meta.get(key)
        lines += [str(x) for x in (getattr(value, "value", value) or [])]
    if not lines:
        what = (data.description or "").strip().splitlines()
        rows = meta.get("dagster_dbt/failed_row_count")
        observed = f" — observed {getattr(rows, 'value', rows)} failing row(s)" if rows else ""
        lines = [(what[0] if what else "failed") + observed]
    return f"{name} ({data.severity.value}): " + "; ".join(lines)


def _fill_summary(instance: dg.DagsterInstance, summary: RunSummary, settings: Settings) -> None:
    starts: dict[str, float] = {}
    for entry in instance.all_logs(summary.run_id):
        ev = entry.dagster_event
        if ev is None:
            continue
        t = entry.timestamp
        if ev.event_type == dg.DagsterEventType.STEP_START:
            starts[ev.step_key] = t
        elif ev.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            ok = ev.event_type == dg.DagsterEventType.STEP_SUCCESS
            summary.steps.append(
                (ev.step_key, "ok" if ok else "failed", t - starts.get(ev.step_key, t))
            )
            if not ok and summary.error is None:
                summary.error, summary.traceback = step_error(ev.event_specific_data.error)
        elif ev.event_type == dg.DagsterEventType.STEP_SKIPPED:
            summary.steps.append((ev.step_key, "skipped", 0.0))
        elif ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = ev.event_specific_data.materialization
            rc = mat.metadata.get("dagster/row_count")
            summary.materialized[mat.asset_key.to_user_string()] = rc.value if rc else None
        elif ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = ev.event_specific_data
            if not data.passed:
                summary.failed_checks.append(failed_check_line(data))
    if "publish/snapshot" in summary.materialized:
        summary.published = (
            f"the Spark tables of marts, ml, activation ({settings.spark_path.resolve()})"
            if settings.engine == "spark"
            else str(settings.published_path.resolve())
        )
