"""`segmint ui`: `dagster dev` with the segmint code location, on loopback by default,
stopped with all its children on SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console

from orchestration.lib.prepare import dagster_home
from segmint.errors import SegmintError
from segmint.settings import Settings

WORKSPACE_YAML = """\
# Written by segmint ui: the one code location, named segmint.
load_from:
  - python_module:
      module_name: orchestration.definitions
      location_name: segmint
      working_directory: {cwd}
"""
UI_STOP_SECONDS = 20


def check_port(host: str, port: int) -> None:
    """A usable TCP port on host, or a one-line error (before anything starts)."""
    if not 1 <= port <= 65535:
        raise SegmintError(f"port {port} is out of range: use 1-65535 (default 3000)")
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SegmintError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port"
            ) from None


def ui_environment(settings: Settings) -> dict[str, str]:
    """The environment of `dagster dev`: DAGSTER_HOME and every path setting made absolute,
    so the code server resolves the same folders whatever its working directory."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(settings))}
    env["SEGMINT_WAREHOUSE"] = str(settings.warehouse.resolve())
    env["SEGMINT_PUBLISHED"] = str(settings.published_path.resolve())
    for name in ("landing", "exports", "audiences", "artifacts"):
        env[f"SEGMINT_{name.upper()}"] = str(getattr(settings, name).resolve())
    if settings.as_of:
        env["SEGMINT_AS_OF"] = settings.as_of
    env["DAGSTER_TELEMETRY_DISABLED"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def wait_until_ready(host: str, port: int, proc: subprocess.Popen, timeout: float) -> float:
    """Seconds until the UI answers GraphQL with the loaded location (0 if it never did)."""
    import json

    query = json.dumps(
        {
            "query": "{ workspaceOrError { ... on Workspace { locationEntries "
            "{ name loadStatus } } } }"
        }
    ).encode()
    started = time.monotonic()
    while time.monotonic() - started < timeout and proc.poll() is None:
        try:
            req = urllib.request.Request(
                f"http://{host}:{port}/graphql",
                data=query,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=2) as resp:
                entries = json.load(resp)["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return time.monotonic() - started
        except Exception:
            pass
        time.sleep(0.25)
    return 0.0


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM `dagster dev`, which stops its webserver, daemon and code server in order
    (a SIGTERM to the whole group made the code server print a gRPC traceback), then
    SIGKILL what is left of its process group after UI_STOP_SECONDS."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=UI_STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # children dagster dev left behind, if any
    proc.wait()


def dagster_dev(
    settings: Settings,
    port: int = 3000,
    host: str = "127.0.0.1",
    console: Console | None = None,
) -> int:
    """Start `dagster dev` with the segmint code location; stop it (and its children) on
    SIGTERM or Ctrl-C. Returns dagster's exit code.

    The dbt manifest is prepared under <warehouse dir>/dbt/target while dagster dev starts
    (its code server waits for it): nothing is written into the installed package, and the
    code server never runs dbt while loading.
    """
    from orchestration.lib.prepare import announced, prepare

    console = console or Console(stderr=True)
    check_port(host, port)
    home = dagster_home(settings)
    workspace = home / "workspace.yaml"
    workspace.write_text(WORKSPACE_YAML.format(cwd=json_str(str(Path.cwd()))))
    dagster = Path(sys.executable).with_name("dagster")
    cmd = [str(dagster) if dagster.exists() else "dagster", "dev", "-h", host, "-p", str(port)]
    cmd += ["-w", str(workspace)]
    with announced(settings):
        # Own process group: a signal to segmint reaches every child through stop_group.
        proc = subprocess.Popen(cmd, env=ui_environment(settings), start_new_session=True)

        def on_signal(signum: int, _frame: Any) -> None:
            # Only signal here: this handler may interrupt proc.wait(), which holds the
            # Popen's wait lock, so waiting for the children happens in `finally`.
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            raise SystemExit(128 + signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            # dagster dev starts while dbt parses; its code server waits for the manifest.
            prepare(settings)
        except BaseException:
            _stop(proc, previous)
            raise
    try:
        ready = wait_until_ready(host, port, proc, timeout=120)
        if ready:
            console.print(f"Dagster UI ready in {ready:.1f}s: http://{host}:{port}")
        return proc.wait()
    finally:
        _stop(proc, previous)


def _stop(proc: subprocess.Popen, previous: dict) -> None:
    stop_group(proc)
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def json_str(text: str) -> str:
    """A YAML-safe scalar (JSON string syntax is valid YAML)."""
    import json

    return json.dumps(text)
