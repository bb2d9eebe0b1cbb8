"""The use of a warehouse by one segmint process at a time (readers may share it).

Every command that touches the working warehouse holds `<warehouse>.lock`: a pipeline run,
an erasure and an ingest exclusively (so a run sees one raw state from its first step to
publish), `status`, `sql --working` and audience validation / preview shared. A command
that finds it held either waits (runs) or answers "busy, retry" with exit code 75.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from segmint.errors import BusyError, SegmintError

try:  # POSIX advisory locks; elsewhere exclusive_use only documents intent
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class WarehouseBusy(BusyError):
    """Another segmint process (a pipeline run, an erasure, an ingest) holds the warehouse."""


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse: `<warehouse>.lock` beside it."""
    warehouse = Path(warehouse)
    return warehouse.with_name(f"{warehouse.name}.lock")


def _acquire(handle, warehouse: Path, wait_seconds: float, on_wait, shared: bool) -> None:
    """flock `handle`, polling until `wait_seconds` have passed; WarehouseBusy after that."""
    deadline = time.monotonic() + wait_seconds
    told = False
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another segmint process"
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"{warehouse} is in use by {holder}") from None
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            time.sleep(0.5)


@contextlib.contextmanager
def exclusive_use(
    warehouse: Path,
    purpose: str,
    wait_seconds: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    shared: bool = False,
) -> Iterator[None]:
    """Hold `<warehouse>.lock` (an flock, released by the kernel even on SIGKILL) for a whole
    pipeline run, erasure or ingest, so no other command starts while one is between two
    connections. `shared=True` takes a reader's share: readers run side by side, writers wait.

    DuckDB's own file lock only covers one open connection; a run opens and closes the file
    step by step (dbt in a subprocess), so `forget` or `ingest` could slip in between two
    steps. Waits up to `wait_seconds` (calling `on_wait` with what holds it once), then raises
    WarehouseBusy (exit code 75). The exclusive holder writes its purpose and pid into the file
    for that message and clears it before letting go.
    """
    path = lock_path(warehouse)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the duration of the block
    except OSError as exc:
        if shared:  # a reader of a folder it may not write: DuckDB's own lock still applies
            yield
            return
        raise SegmintError(f"cannot create the lock file {path}: {exc.strerror}") from None
    held = False
    try:
        if fcntl is not None:
            _acquire(handle, Path(warehouse), wait_seconds, on_wait, shared)
        held = not shared
        if held:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{purpose} (pid {os.getpid()})\n")
            handle.flush()
        yield
    finally:
        if held:  # still held: nobody reads a stale holder afterwards
            with contextlib.suppress(OSError):
                handle.truncate(0)
        handle.close()  # closing the file releases the lock
