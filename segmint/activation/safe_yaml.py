"""Audience YAML read with limits: size, nesting depth, alias expansion, duplicate keys.

PyYAML's composer and constructor recurse once per nesting level and aliases make a small
file expand into a huge tree ("billion laughs"), so the event stream is checked first,
without recursion: nesting depth, the number of nodes once every alias is expanded, and
aliases that refer to a node still being built. Only a document within the limits is
composed and constructed, with a loader that refuses duplicate mapping keys. Every refusal
is a YamlLimitError with a one-line message.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000  # nodes of the document with every alias expanded


class YamlLimitError(ValueError):
    """The YAML text is refused; the message is one line."""


def _where(mark: yaml.Mark | None) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key: the base constructor reports it
                continue
            if duplicate:
                raise YamlLimitError(f"duplicate key {key!r}{_where(key_node.start_mark)}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _UniqueKeyLoader.construct_yaml_map)


def _check_events(text: str) -> None:
    """Depth, expanded size and alias sanity from the event stream (no recursion)."""
    sizes: dict[str, int] = {}  # anchor -> expanded node count of its node
    open_anchors: list[tuple[str | None, int]] = []  # per open collection: anchor, count at start
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise YamlLimitError(
                    f"alias *{event.anchor} refers to a node that contains it or is undefined"
                    f"{_where(event.start_mark)}"
                )
            nodes += sizes[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            nodes += 1
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlLimitError(
                    f"nested deeper than {MAX_DEPTH} levels{_where(event.start_mark)}"
                )
            open_anchors.append((event.anchor, nodes - 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start
        if nodes > MAX_NODES:
            raise YamlLimitError(
                f"expands to more than {MAX_NODES:,} nodes (aliases expanded)"
                f"{_where(event.start_mark)}"
            )


def load_yaml(text: str) -> Any:
    """Parse one YAML document within the limits; YamlLimitError or yaml.YAMLError else."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise YamlLimitError(f"file is {size:,} bytes, more than the {MAX_BYTES:,} allowed")
    _check_events(text)
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def one_line(exc: yaml.YAMLError) -> str:
    """A PyYAML error as one line: the problem and where it is."""
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "syntax error"
        return f"{problem}{_where(exc.problem_mark or exc.context_mark)}"
    return " ".join(str(exc).split())
