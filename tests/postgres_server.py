"""Start a real, throw-away PostgreSQL server for tests (and stop it afterwards).

Binaries come from the pip-installable `pgserver` wheel (PostgreSQL 16 compiled into the
wheel, so `pip install` alone brings a server onto a fresh machine); when that package is
absent, from a system installation (`initdb` on PATH or /usr/lib/postgresql/*/bin).
PostgreSQL refuses to run as root, so under root the server runs as an unprivileged system
user (`postgres` when it exists, else `nobody`) that owns a fresh temporary data directory.
The server listens on 127.0.0.1 only, on a free port, with fsync off (test data only).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PostgresInstance:
    """Connection facts of a running test server."""

    host: str
    port: int
    user: str
    dbname: str
    data_dir: Path

    @property
    def dsn(self) -> str:
        """libpq connection string (trust auth: no password)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"


def find_bindir() -> Path:
    """Directory holding initdb/pg_ctl/postgres: pgserver's wheel first, then the system."""
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "pginstall" / "bin"
        if (candidate / "pg_ctl").exists():
            return candidate
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    system = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for candidate in reversed(system):
        if (candidate / "pg_ctl").exists():
            return candidate
    raise RuntimeError(
        "no PostgreSQL server binaries found: `pip install pgserver` (the test extra) or "
        "install the system package (apt-get install postgresql)"
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """Unprivileged account to run the server under when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _run(cmd: list[str], account: pwd.struct_passwd | None, cwd: Path) -> None:
    kwargs: dict[str, Any] = {}
    if account is not None:
        kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{Path(cmd[0]).name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )


def _usable_bindir(bindir: Path, account: pwd.struct_passwd | None, scratch: Path) -> Path:
    """`bindir`, or a copy of its installation the account can execute.

    As root the server runs under another account, which cannot reach binaries inside a
    private folder (a clone in a `mktemp -d` directory is mode 0700): the wheel's install
    (bin, lib, share: relocatable) and its bundled libraries are then copied into a
    world-readable scratch folder.
    """
    if account is None:
        return bindir
    try:
        _run([str(bindir / "pg_ctl"), "--version"], account, Path("/"))
        return bindir
    except PermissionError:
        # Keep the wheel's layout: its binaries find their bundled libraries by RPATH
        # $ORIGIN/../../../pgserver.libs (site-packages/pgserver/pginstall/bin -> .libs).
        site = bindir.parents[2]
        for part in (bindir.parent, *site.glob(f"{bindir.parents[1].name}.libs")):
            shutil.copytree(part, scratch / part.relative_to(site), symlinks=True)
        for folder in (scratch, *[p for p in scratch.rglob("*") if p.is_dir()]):
            folder.chmod(0o755)
        return scratch / bindir.relative_to(site)


@contextlib.contextmanager
def postgres_server(host: str = "127.0.0.1") -> Iterator[PostgresInstance]:
    """Init a temp cluster, start it on a free port, yield its facts, then stop and delete it."""
    account = _run_as()
    scratch = Path(tempfile.mkdtemp(prefix="segmint-pgbin-"))
    bindir = _usable_bindir(find_bindir(), account, scratch)
    root = Path(tempfile.mkdtemp(prefix="segmint-pg-"))
    data_dir = root / "data"
    log = root / "server.log"
    started = False
    try:
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        root.chmod(0o700)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            account,
            root,
        )
        port = _free_port(host)
        options = f"-h {host} -p {port} -k {root} -F -c max_connections=20"
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-w", "-t", "60"]
            + ["-o", options, "start"],
            account,
            root,
        )
        started = True
        yield PostgresInstance(host, port, "postgres", "postgres", data_dir)
    finally:
        if started:
            with contextlib.suppress(Exception):
                _run(
                    [str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"],
                    account,
                    root,
                )
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
