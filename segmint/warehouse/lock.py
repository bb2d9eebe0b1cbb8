"""The exclusive use of a warehouse by one pipeline run or one erasure at a time."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from segmint.errors import SegmintError

try:  # POSIX advisory locks; elsewhere exclusive_use only documents intent
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class WarehouseBusy(SegmintError):
    """Another segmint process (a pipeline run or an erasure) is using the warehouse."""


def _acquire(handle, warehouse: Path, wait_seconds: float, on_wait) -> None:
    """flock `handle`, polling until `wait_seconds` have passed; WarehouseBusy after that."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
) -> Iterator[None]:
    """Hold `<warehouse>.lock` (an flock, released by the kernel even on SIGKILL) for a whole
    pipeline run or erasure, so neither starts while the other is between two connections.

    DuckDB's own file lock only covers one open connection; a run opens and closes the file
    step by step (dbt in a subprocess), so `forget` could slip in between two steps and a run
    could fail on a lock `forget` holds. Waits up to `wait_seconds` (calling `on_wait` with
    what holds it once), then raises WarehouseBusy.
    """
    lock_path = Path(warehouse).with_name(f"{Path(warehouse).name}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the duration of the block
    try:
        if fcntl is not None:
            _acquire(handle, Path(warehouse), wait_seconds, on_wait)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{purpose} (pid {os.getpid()})\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock
