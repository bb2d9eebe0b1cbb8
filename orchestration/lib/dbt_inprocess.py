"""A dbt step in this process (dbt's `dbtRunner`), for the Spark engine.

dagster-dbt's `DbtCliResource.cli` starts dbt as a subprocess. dbt-spark's `method: session`
runs Spark inside the dbt process, and the Hive metastore is a Derby database that one JVM
at a time may open: a dbt subprocess could not open it while the run's own SparkSession
(the models' reads and writes, the forecast fan-out) holds it, nor see the tables of an
in-memory catalog. So on Spark the step invokes dbt in process, where dbt-spark's
`getOrCreate()` returns the run's session, and turns dbt's structured events into Dagster
events with dagster-dbt's own conversion (the same selection, outputs and check results as
`DbtCliResource.cli(...).stream()`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

RESULT_EVENTS = ("LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult")


class InProcessInvocation:
    """The outcome of one in-process dbt invocation: Dagster events, success, error."""

    def __init__(self, events: list[Any], success: bool, error: BaseException | None) -> None:
        self.events = events
        self.success = success
        self.error = error

    def stream(self) -> Iterator[Any]:
        yield from self.events

    def is_successful(self) -> bool:
        return self.success

    def get_error(self) -> BaseException | None:
        return self.error


def dbt_in_process(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    args: list[str],
    target_path: Path,
) -> InProcessInvocation:
    """Run `dbt <args>` for the step's selected nodes in this process."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    cleaned, selects, excludes = extract_runtime_selection_from_args(args)
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest={},
        dagster_dbt_translator=None,
        runtime_selects=selects,
        runtime_excludes=excludes,
    )
    project_dir = Path(params.dbt_project.project_dir if params.dbt_project else dbt.project_dir)
    raw: list[dict[str, Any]] = []

    def collect(msg: Any) -> None:
        if msg.info.name in RESULT_EVENTS:
            raw.append(msg_to_dict(msg))

    full = [
        "--quiet",  # the run's progress display, not dbt's log, goes to the console
        *cleaned,
        *params.selection_args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(dbt.profiles_dir or project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
    ]
    # dagster-dbt's indirect selection for the selected checks, for this invocation only
    extra = {DBT_INDIRECT_SELECTION_ENV: params.indirect_selection}
    with mock.patch.dict(os.environ, extra if params.indirect_selection else {}):
        result = dbtRunner(callbacks=[collect]).invoke(full)
    events = []
    for entry in raw:
        message = DbtCoreCliEventMessage(raw_event=entry, event_history_metadata={})
        events += list(
            message.to_default_asset_events(
                manifest=params.manifest,
                dagster_dbt_translator=params.dagster_dbt_translator,
                context=context,
                target_path=target_path,
                project=params.dbt_project,
            )
        )
    error = None if result.success else (result.exception or RuntimeError(_failures(result)))
    return InProcessInvocation(events, bool(result.success), error)


def _failures(result: Any) -> str:
    """The nodes that errored or failed, with dbt's message (as the CLI's summary names them)."""
    failed = [
        f"{r.node.name}: {r.status}" + (f" ({r.message})" if r.message else "")
        for r in getattr(result.result, "results", None) or []
        if str(r.status) in ("error", "fail", "runtime error")
    ]
    return "; ".join(failed[:5]) or "dbt failed"
