"""Run a child process while sampling the resident memory of its whole process tree."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MiB = 1024 * 1024


@dataclass
class Sample:
    at: float  # epoch seconds (comparable with Dagster event timestamps)
    rss: int  # bytes, summed over the process and all its descendants
    cpu: float  # CPU seconds (user + system) used so far by the tree, reaped children included


@dataclass
class Measured:
    """What one monitored child did: its exit code, wall time and memory over time."""

    returncode: int
    started: float
    ended: float
    samples: list[Sample] = field(default_factory=list)
    load_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_seconds: float = 0.0  # from wait4: the child and every descendant it waited for

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds the tree used between two moments (sample resolution)."""

        def at(t: float) -> float:
            before = [s.cpu for s in self.samples if s.at <= t]
            return before[-1] if before else 0.0

        return round(max(0.0, at(end) - at(start)), 2)

    def peak_mb(self, start: float | None = None, end: float | None = None) -> float:
        """Peak tree RSS (MiB) within [start, end] (default: the whole run)."""
        lo = self.started if start is None else start
        hi = self.ended if end is None else end
        inside = [s.rss for s in self.samples if lo <= s.at <= hi]
        if not inside:  # a stage shorter than the interval: the nearest sample after it
            later = [s.rss for s in self.samples if s.at >= lo]
            inside = later[:1] or [s.rss for s in self.samples[-1:]]
        return round(max(inside, default=0) / MiB, 1)


def tree_usage(proc: psutil.Process) -> tuple[int, float]:
    """RSS (bytes) and cumulative CPU seconds of a process plus every live descendant.

    Each process counts its own CPU and that of the children it has reaped, so CPU moves
    from a dead child to its parent without being lost or counted twice. Processes that
    vanish mid-walk count 0.
    """
    rss, cpu = 0, 0.0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0.0
    for p in procs:
        try:
            with p.oneshot():
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return rss, cpu


def run_monitored(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    interval: float = 0.2,
) -> Measured:
    """Run `cmd` to completion, sampling its tree's RSS every `interval` seconds."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    load_start = os.getloadavg()
    started = time.time()
    try:
        child = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        proc = psutil.Process(child.pid)
        samples: list[Sample] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                rss, cpu = tree_usage(proc)
                if rss:
                    samples.append(Sample(time.time(), rss, cpu))
                stop.wait(interval)

        sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        ended = time.time()
        child.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    finally:
        if log:
            out.close()
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(
        child.returncode, started, ended, samples, load_start, os.getloadavg(), round(cpu, 2)
    )
