"""The prepare step's mark: the code server waits for a live `segmint ui` parse, not a dead one."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from orchestration.lib.prepare import PREPARING, announced, manifest_path, wait_for_prepare
from segmint.settings import Settings


def test_waits_while_a_live_process_prepares_and_not_for_a_dead_one(tmp_path: Path) -> None:
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    mark = manifest.parent / PREPARING
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    mark.write_text(dead)
    started = time.monotonic()
    wait_for_prepare(manifest, timeout=30)
    assert time.monotonic() - started < 5  # a crashed `segmint ui` left it: no wait

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mark.write_text(str(live.pid))
        threading.Timer(1.5, lambda: mark.unlink()).start()
        started = time.monotonic()
        wait_for_prepare(manifest, timeout=30)
        assert 1.0 < time.monotonic() - started < 20
    finally:
        live.kill()
        live.wait()


def test_announced_marks_beside_the_manifest_and_clears_on_error(tmp_path: Path) -> None:
    settings = Settings(warehouse=tmp_path / "wh" / "segmint.duckdb")
    mark = manifest_path(settings).parent / PREPARING
    try:
        with announced(settings):
            assert mark.read_text().strip().isdigit()
            raise RuntimeError("parse failed")
    except RuntimeError:
        pass
    assert not mark.exists()
