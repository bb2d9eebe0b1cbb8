"""Where PyTensor keeps the C code it compiles on first use (set before pytensor is imported)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def use_compile_cache(folder: Path) -> Path:
    """Point PyTensor's compile cache at `folder` (base_compiledir) for this process.

    PyTensor reads PYTENSOR_FLAGS once, when first imported; this must run before that
    (the value entry points call it first). Other flags the user set are kept. If pytensor is
    already imported its own setting stands, and that folder is returned.
    """
    if "pytensor" in sys.modules:
        import pytensor

        return Path(pytensor.config.base_compiledir)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    flags = [
        f
        for f in os.environ.get("PYTENSOR_FLAGS", "").split(",")
        if f and not f.startswith(("base_compiledir=", "compiledir="))
    ]
    os.environ["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={folder}"])
    return folder


def default_compile_cache() -> Path:
    """The user cache folder (XDG_CACHE_HOME or ~/.cache)/segmint/pytensor: one per machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "segmint" / "pytensor"
