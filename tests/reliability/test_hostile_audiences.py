"""Hostile audience YAML: each is answered by `segmint audiences validate` in one line.

An alias bomb, deep nesting, duplicate keys and an oversized file are refused quickly with
one line naming the file and the problem, exit code 1 and no traceback; the valid audience
next to them still validates.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmint.activation.safe_yaml import MAX_BYTES, MAX_DEPTH
from segmint.cli import app, console
from segmint.settings import get_settings

VALID = """\
name: ok_audience
description: fine
conditions:
  all:
    - {column: marketing_consent, op: "=", value: true}
destinations: [csv]
"""

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)

HOSTILE = {
    "alias_bomb": (BOMB, "expands to more than"),
    "deep_nesting": ("x: " + "[" * 5000 + "]" * 5000 + "\n", f"deeper than {MAX_DEPTH}"),
    "deep_mapping_nesting": ("".join(" " * i + "k:\n" for i in range(500)), "deeper than"),
    "duplicate_key": (VALID.replace("name: ok_audience", "name: a\nname: b"), "duplicate key"),
    "duplicate_nested_key": (
        VALID.replace("destinations: [csv]", "destinations: [{format: csv, format: hubspot}]"),
        "duplicate key",
    ),
    "recursive_alias": ("name: &n [*n]\n", "alias"),
    "oversized": ("name: x\ndescription: " + "y" * (MAX_BYTES + 10) + "\n", "bytes"),
    "syntax_error": ("name: [unclosed\n", "not valid YAML"),
    "python_tag": ("name: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    "two_documents": (VALID + "---\n" + VALID, "not valid YAML"),
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("SEGMINT_WAREHOUSE", "SEGMINT_AUDIENCES", "SEGMINT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SEGMINT_WAREHOUSE", str(tmp_path / "no" / "segmint.duckdb"))
    monkeypatch.setattr(console, "width", 1000)  # rich would wrap at 80 columns
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_audience_yaml_is_one_line(kind: str, tmp_path: Path) -> None:
    text, expected = HOSTILE[kind]
    folder = tmp_path / "audiences"
    folder.mkdir()
    (folder / "ok_audience.yml").write_text(VALID)
    (folder / f"{kind}.yml").write_text(text)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["audiences", "validate", "--audiences", str(folder)])
    seconds = time.monotonic() - started
    assert seconds < 10, f"{kind} took {seconds:.1f} s"
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    problems = [line for line in lines if line.startswith("invalid")]
    assert len(problems) == 1, result.output
    others = [line for line in lines if not line.startswith("invalid")]
    assert len(others) == 2, f"one line per problem, nothing else: {result.output}"
    assert f"{kind}.yml" in problems[0] and expected in problems[0], problems[0]
    assert "1 valid audience(s), 1 problem(s)" in result.output
