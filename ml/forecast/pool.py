"""Running the fits: sequentially, or in a pool of worker processes (forkserver), with
guided chunks and CPU accounting; the output is the same either way."""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing as mp
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.params import AsOf, ForecastParams, Progress
from ml.forecast.prophet_model import forecast_series
from ml.forecast.series import Fitted, SeriesForecast, series_end, to_timestamp


@contextlib.contextmanager
def _kept_numpy_rng() -> Iterator[None]:
    """Restore numpy's global RNG afterwards (Prophet's sampling seeds and draws from it)."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


@dataclass(frozen=True)
class Task:
    """One fit: a series' history up to an origin and how far ahead to forecast."""

    series_key: str
    cutoff: pd.Timestamp | None  # None: the production forecast
    history: pd.DataFrame
    horizon_days: int
    start: pd.Timestamp | None
    with_components: bool


def _run_task(task: Task, params: ForecastParams) -> tuple[str, pd.Timestamp | None, Any]:
    result = forecast_series(
        task.history,
        params,
        series_key=task.series_key,
        horizon_days=task.horizon_days,
        start=task.start,
        with_components=task.with_components,
        keep_model=task.cutoff is None,
    )
    return task.series_key, task.cutoff, result


def _cpu_seconds() -> float:
    """CPU seconds of this process plus its waited-for children (the CmdStan runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _run_chunk(
    chunk: list[Task], params: ForecastParams
) -> tuple[int, float, float, list[tuple[Any, ...]]]:
    started, cpu = time.monotonic(), _cpu_seconds()
    results = [_run_task(task, params) for task in chunk]
    return os.getpid(), started, _cpu_seconds() - cpu, results


def _init_worker() -> None:
    # Lazy: Prophet is heavy, and its import resets the 'prophet' logger level.
    import prophet  # noqa: F401

    logging.getLogger("cmdstanpy").disabled = True
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _mp_context() -> mp.context.BaseContext:
    """Forkserver where available, else spawn."""
    # Workers fork from a clean server that imported Prophet once: no per-worker import
    # cost, and no locks or DuckDB handles inherited from a threaded host such as Dagster.
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["ml.forecast", "prophet", "cmdstanpy"])
    return ctx


def _guided_chunks(tasks: list[Task], workers: int) -> list[list[Task]]:
    """Longest histories first, in chunks of ceil(remaining / (4 * workers)) tasks.

    Guided self-scheduling: big chunks while much work is left (few round trips), single
    fits at the end so no worker idles while another finishes a long chunk. A task ships
    one series frame (kilobytes) and costs ~0.1 s of CPU, so round trips are cheap anyway.
    """
    ordered = sorted(tasks, key=lambda t: -len(t.history))
    chunks, i = [], 0
    while i < len(ordered):
        size = max(1, math.ceil((len(ordered) - i) / (4 * workers)))
        chunks.append(ordered[i : i + size])
        i += size
    return chunks


def execute(
    tasks: list[Task],
    params: ForecastParams,
    progress: Progress | None,
    stats: dict[str, Any] | None = None,
    spark: Any = None,
) -> Fitted:
    """Run the fits, sequentially, in a process pool, or on Spark when given a SparkSession
    (ml.forecast.spark_pool); fill stats (if given) with timings.

    stats gets wall and CPU seconds (CPU includes the CmdStan child processes, so it does not
    depend on how loaded the machine is), the CPU per worker process, the delay until the
    first worker started fitting (pool start-up), and the parent's own CPU seconds.
    """
    workers = min(params.workers, len(tasks))
    wall0, cpu0 = time.perf_counter(), _cpu_seconds()
    if spark is not None:
        from ml.forecast.spark_pool import run_on_spark

        results, timing = run_on_spark(tasks, params, spark)
    elif workers <= 1:
        results, timing = _run_sequential(tasks, params, progress, cpu0)
    else:
        results, timing = _run_pool(tasks, params, progress, workers, cpu0)
    if stats is not None:
        stats.update(
            workers=timing.pop("workers"),
            tasks=len(tasks),
            wall_seconds=time.perf_counter() - wall0,
            **timing,
        )
    return results


def _run_sequential(
    tasks: list[Task], params: ForecastParams, progress: Progress | None, cpu0: float
) -> tuple[Fitted, dict[str, Any]]:
    """Every fit in this process, one after the other (numpy's global RNG left as found)."""
    results: Fitted = {}
    with _kept_numpy_rng():
        for i, task in enumerate(tasks, start=1):
            key, cutoff, res = _run_task(task, params)
            results[(key, cutoff)] = res
            if progress:
                progress(i, len(tasks))
    cpu = _cpu_seconds() - cpu0
    timing = {
        "workers": 1,
        "cpu_seconds": cpu,
        "worker_cpu_seconds": [cpu],
        "startup_seconds": 0.0,
        "parent_cpu_seconds": cpu,
    }
    return results, timing


def _run_pool(
    tasks: list[Task],
    params: ForecastParams,
    progress: Progress | None,
    workers: int,
    cpu0: float,
) -> tuple[Fitted, dict[str, Any]]:
    """The fits in `workers` processes, in guided chunks, longest histories first."""
    results: Fitted = {}
    done = 0
    per_worker: dict[int, float] = {}
    first_start = math.inf
    mono0 = time.monotonic()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(), initializer=_init_worker
    ) as pool:
        futures = [
            pool.submit(_run_chunk, chunk, params) for chunk in _guided_chunks(tasks, workers)
        ]
        for future in as_completed(futures):
            pid, started, cpu, chunk_results = future.result()
            per_worker[pid] = per_worker.get(pid, 0.0) + cpu
            first_start = min(first_start, started)
            for key, cutoff, res in chunk_results:
                results[(key, cutoff)] = res
                done += 1
            if progress:
                progress(done, len(tasks))
    parent = _cpu_seconds() - cpu0
    timing = {
        "workers": workers,
        "cpu_seconds": parent + sum(per_worker.values()),
        "worker_cpu_seconds": sorted(per_worker.values(), reverse=True),
        "startup_seconds": max(0.0, first_start - mono0),
        "parent_cpu_seconds": parent,
    }
    return results, timing


def forecast_all(
    series: Mapping[str, pd.DataFrame],
    params: ForecastParams,
    end: AsOf = None,
    progress: Progress | None = None,
    with_components: Sequence[str] = (),
    stats: dict[str, Any] | None = None,
) -> dict[str, SeriesForecast]:
    """Forecast every series (in parallel across params.workers processes), keyed like series.

    The forecast step alone: one fit per series, intervals as the model gives them (there
    are no earlier origins to calibrate on; run_forecasting calibrates from its backtests).
    """
    last = to_timestamp(end) or series_end(series)
    tasks = [
        Task(key, None, frame, params.horizon_days, last, key in with_components)
        for key, frame in series.items()
    ]
    fitted = execute(tasks, params, progress, stats)
    return {key: fitted[(key, None)] for key in series}
