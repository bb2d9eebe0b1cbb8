"""Atomic files: temp file in the same folder, fsync, rename (or link), fsync the folder.

A reader (or a crash) sees either no file or the complete file, never a partial one.
Temp files are hidden (`.<name>.tmp-<pid>-<token>`); ones left by a killed process are
swept before the next write into the same folder (sweep_stale_temps). Used by exports,
the published snapshot, manifests and the identifier hash key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_TEMP = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]+$")


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    """SHA-256 hex of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class AtomicFile:
    """Facts of a file written by atomic_file (set once it is in place)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256: str | None = None
        self.bytes: int = 0


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[tuple[IO[bytes], AtomicFile]]:
    """Yield a binary handle on a temp file; on success fsync it and rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    info = AtomicFile(path)
    fh = open(tmp, "xb")  # noqa: SIM115 - closed in both branches below
    try:
        yield fh, info
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        info.sha256 = file_sha256(tmp)
        info.bytes = tmp.stat().st_size
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> str:
    """Write JSON atomically; returns its SHA-256."""
    with atomic_file(path) as (fh, info):
        fh.write(json.dumps(payload, indent=2, sort_keys=True, default=str).encode("utf-8"))
        fh.write(b"\n")
    assert info.sha256 is not None
    return info.sha256


def create_once(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Create `path` holding `data` unless it exists; True when this call created it.

    The complete file appears at once or not at all (temp file, fsync, hard link, fsync the
    folder): two processes racing see one winner, and the loser reads the winner's bytes,
    never a half-written file. The temp file is created with `mode` (no wider moment).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails when path exists: no overwrite, unlike rename
        except FileExistsError:
            return False
        fsync_dir(path.parent)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid still runs (temp files of dead ones are stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(folder: Path) -> list[Path]:
    """Delete temp files left in `folder` by processes that no longer run; return them."""
    removed: list[Path] = []
    if not Path(folder).is_dir():
        return removed
    for entry in Path(folder).iterdir():
        match = _TEMP.match(entry.name)
        if match and entry.is_file() and not pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
