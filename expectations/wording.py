"""Failed expectations in words: which expectation, and what it observed (GX's result
details), for the run summary and the asset check's metadata."""

from __future__ import annotations

import json
from typing import Any


def label(config: Any) -> str:
    """Readable name of an expectation: type, main arguments and reason."""
    kwargs = config.kwargs or {}
    target = kwargs.get("column") or kwargs.get("column_list") or kwargs.get("column_set")
    why = (config.meta or {}).get("why") or config.description
    head = config.type if target is None else f"{config.type}({_fmt(target)})"
    return f"{head}: {why}" if why else head


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _percent(value: Any) -> str:
    return f"{float(value):.3g}%"


def observed_text(details: dict[str, Any]) -> str:
    """What a failed expectation observed, in words, from GX's result details."""
    if "exception" in details:
        return f"an error: {details['exception']}"
    rows = (
        (details.get("details") or {}).get("unexpected_rows")
        if isinstance(details.get("details"), dict)
        else None
    )
    if rows:
        first = rows[0]
        if isinstance(first, dict) and {"observed_rows", "total_rows"} <= set(first):
            return (
                f"{_percent(first['observed_percent'])} of rows "
                f"({first['observed_rows']:,} of {first['total_rows']:,})"
            )
        shown = "; ".join(json.dumps(r, default=str) for r in rows[:3])
        more = f" (+{len(rows) - 3} more)" if len(rows) > 3 else ""
        return f"{len(rows)} row(s): {shown[:240]}{more}"
    if "unexpected_percent" in details and details.get("unexpected_count") is not None:
        sample = details.get("partial_unexpected_list") or []
        example = f", e.g. {', '.join(str(v) for v in sample[:3])}" if sample else ""
        return (
            f"{_percent(details['unexpected_percent'])} of values "
            f"({details['unexpected_count']:,} of {details.get('element_count', 0):,}){example}"
        )
    if "observed_value" in details:
        return str(details["observed_value"])[:240]
    return json.dumps(details, default=str)[:240]
