"""#15: the README's audience file reference documents every key the example audiences use,
and every key an audience file accepts."""

from __future__ import annotations

import re

import yaml

from segmint.activation.audience import Audience, Destination
from tests.segmint.activation.data import REPO

CONDITION_KEYS = {"all", "any", "not", "column", "op", "value"}


def _keys(node: object, inside_conditions: bool = False) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_conditions:
                out.add(key)
            # conditions hold a tree, field_map column names: neither are file keys
            out |= _keys(value, inside_conditions or key in ("conditions", "field_map"))
    elif isinstance(node, list):
        for item in node:
            out |= _keys(item, inside_conditions)
    return out


def _documented() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Audience file reference", 1)[1].split("###", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))


def test_readme_documents_every_key_of_the_examples() -> None:
    used: set[str] = set()
    for path in sorted((REPO / "audiences").glob("*.yml")):
        used |= _keys(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert {"format", "tags", "field_map", "columns", "holdout_share"} <= used
    assert used - _documented() == set()


def test_readme_documents_every_accepted_key() -> None:
    accepted = (set(Audience.model_fields) - {"source"}) | set(Destination.model_fields)
    assert accepted - _documented() == set()
    assert CONDITION_KEYS.isdisjoint(_documented() - {"name"})
