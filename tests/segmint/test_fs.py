"""Atomic files: a reader or a crash sees the old file or the new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmint.fs import atomic_file
from tests.segmint.activation.data import Boom


def test_atomic_file_never_exposes_partial_content(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old complete file\n")
    with pytest.raises(Boom), atomic_file(target) as (fh, _info):
        fh.write(b"half a fi")
        raise Boom
    assert target.read_text() == "old complete file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
