"""What every `segmint` command shares: the consoles, one-line user errors, options.

Output to a file or pipe carries no ANSI codes and is not cut at 80 columns.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from segmint.errors import BusyError, SegmintError, user_error_from
from segmint.settings import Settings, get_settings

# Output to a file or pipe: no ANSI codes (whatever FORCE_COLOR says) and no wrapping or
# "…" truncation at 80 columns (a one-line error stays one line; tables keep every value).
PIPE_WIDTH = 100_000


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return Console(stderr=stderr, force_terminal=tty, width=None if tty else PIPE_WIDTH)


console = _console(stderr=True)
out = _console(stderr=False)

WarehouseOpt = Annotated[
    Path | None, typer.Option("--warehouse", "-w", help="Working DuckDB file (SEGMINT_WAREHOUSE)")
]
AudFolderOpt = Annotated[
    Path | None, typer.Option("--audiences", help="Folder of audience YAML (SEGMINT_AUDIENCES)")
]


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected user mistakes into a one-line message and their exit code (2; 75 busy).

    DuckDB errors a user can act on (a warehouse held by another process, a path that is a
    folder or not a DuckDB file) are mapped too; anything else is a bug and keeps its
    traceback.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except (SegmintError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            # A one-line error wrapping DuckDB's lock conflict is a busy warehouse (75).
            cause = user_error_from(exc.__cause__) if exc.__cause__ is not None else None
            fail(cause if isinstance(cause, BusyError) else exc)
        except Exception as exc:
            mapped = user_error_from(exc)
            if mapped is None:
                raise
            fail(mapped)

    return wrapper


def fail(exc: BaseException) -> None:
    """Print `exc` as one line and exit with its code."""
    code = getattr(exc, "exit_code", 2)
    label = "busy, retry" if isinstance(exc, BusyError) else "error"
    lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
    text = "\n".join(lines) or type(exc).__name__
    console.print(f"[bold red]{label}:[/] {escape(text)}", soft_wrap=True)
    raise typer.Exit(code) from None


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


def quiet_teardown() -> None:
    """Runs last at exit: stderr goes to /dev/null once everything has been said.

    DuckDB's Python module (nanobind since duckdb 2.0) prints "nanobind: leaked N
    instances/types/functions" at interpreter teardown after a pipeline run: objects still
    referenced when the interpreter finalises, which nanobind's docs call harmless at exit
    (https://nanobind.readthedocs.io/en/latest/refleaks.html). The library offers no switch
    to Python, so the command's output ends with its own last line instead of forty of those.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


def plain_dbt_logs() -> None:
    """No colour codes from dbt in a pipe: DBT_USE_COLORS for the dbt processes, and dbt's
    import-time console logger (which dagster-dbt's node selection logs through, coloured
    whatever the flag) replaced by a plain one."""
    os.environ.setdefault("DBT_USE_COLORS", "false")
    os.environ.setdefault("NO_COLOR", "1")
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager
    from dbt_common.events.functions import get_stdout_config
    from dbt_common.events.logger import LineFormat

    cleanup_event_logger()
    plain = get_stdout_config(LineFormat.PlainText, False, EventLevel.INFO, False)
    get_event_manager().add_logger(plain)


# What the DuckDB-only commands say when the settings' engine is Spark (docs/engines.md).
SPARK_REFUSALS = {
    "sql": "engine spark: the published tables are Spark tables (marts, ml, activation); "
    "query them with spark.sql or spark-sql (docs/engines.md); --working queries the "
    "DuckDB file (raw, quarantine, ledger, export state)",
    "forget": "engine spark: erasure reaches the DuckDB file only, not yet the Spark lake and "
    "tables; nothing was erased (docs/engines.md)",
}


def refuse_on_spark(settings: Settings, command: str) -> None:
    """A one-line error for a command that works on the DuckDB engine only."""
    if settings.engine == "spark":
        raise SegmintError(SPARK_REFUSALS[command])
