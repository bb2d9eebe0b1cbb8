"""`segmint watch`: the landing sensor's rule without the Dagster daemon.

Whenever files were added or changed in the landing folder since the last pass (the first
pass: whatever is there), run the pipeline once; files already loaded are skipped by ingest
(the load ledger), so a pass costs what the new files cost. One run at a time, in this
process; Ctrl-C stops between or during runs (a killed run leaves the last published
snapshot in place and the next run recovers, as after any crash).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from orchestration.defs.ingest.sensors import landing_fingerprint


def changed_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Files added or changed (size or mtime) since `previous`, in name order."""
    return sorted(name for name, stamp in current.items() if previous.get(name) != stamp)


def watch_landing(
    landing: Path,
    run: Callable[[list[str]], None],
    interval: float,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call `run(new files)` after each pass that finds new files; return the number of runs
    (when `max_runs` is reached; otherwise it polls until interrupted)."""
    seen: dict[str, str] = {}
    runs = 0
    while max_runs is None or runs < max_runs:
        current = landing_fingerprint(landing)
        new = changed_files(seen, current)
        if new:
            run(new)
            runs += 1
            # what the run read; a file still being written gets a new stamp and a new run
            seen = current
        else:
            sleep(interval)
    return runs
