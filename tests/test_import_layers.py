"""Import layers (pyproject.toml [tool.importlinter]): segmint never imports orchestration
(except segmint.cli, the composition root), ml never imports orchestration or the CLI,
models never import plots, and the parts of segmint import each other without cycles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("segmint", "ml", "orchestration", "expectations")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages under `root` (imported from there, not the install)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_import_layer_contract_is_kept() -> None:
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "segmint/erasure.py",
            "import orchestration.runner",
            "segmint never imports orchestration",
        ),
        ("ml/features.py", "import segmint.cli", "ml never imports orchestration or the CLI"),
        ("ml/features.py", "import ml.plots", "models never import plots"),
        (
            "segmint/fs.py",
            "import segmint.privacy",
            "no import cycles between the parts of segmint",
        ),
    ],
)
def test_a_broken_layer_fails_the_check(tmp_path: Path, module: str, line: str, contract: str):
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa: E402, F401\n")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    broken = proc.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), proc.stdout
