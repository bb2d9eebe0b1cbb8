"""benchmarks/results/pipeline.md: the pipeline benchmark's report as Markdown tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The report's stage rows, in pipeline order (benchmarks.pipeline.stage_of maps steps to them).
STAGES = (
    "generate",
    "ingest",
    "dbt",
    "checks",
    "segmentation",
    "churn",
    "forecast",
    "targeting",
    "export",
    "publish",
)


def _fmt_s(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _cpu_ratio_floor(sc: dict[str, Any]) -> str:
    return f"{sc['pipeline']['stages']['dbt']['cpu_seconds'] / sc['floor']['cpu_seconds']:.1f}x"


def _cpu_share_incremental(sc: dict[str, Any]) -> str:
    return f"{100 * sc['incremental']['cpu_seconds'] / sc['pipeline']['cpu_seconds']:.1f}%"


def _load_span(sc: dict[str, Any]) -> str:
    p = sc["pipeline"]
    return f"{p['load_start'][0]:.1f} → {p['load_end'][0]:.1f}"


def _header(report: dict[str, Any], names: list[str]) -> list[str]:
    m = report["machine"]
    return [
        "# Pipeline benchmark",
        "",
        f"{report['date']} · {m['nproc']} cores ({m['cpu_model']}) · {m['ram_gb']} GiB RAM · "
        f"Python {m['python']}",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        "",
        "Per stage: wall seconds, CPU seconds (user + system of the whole process tree: less",
        "sensitive to other load on the machine) and peak RSS of the whole process tree (MiB).",
        "`pipeline` is `segmint run` on landed files (ingest → publish); `total` adds generation.",
        "",
        "| stage | " + " | ".join(f"{n} wall s | {n} CPU s | {n} peak MiB" for n in names) + " |",
        "|---|" + "---:|---:|---:|" * len(names),
    ]


def _cells(st: dict[str, Any] | None) -> list[str]:
    if not st:
        return ["–", "–", "–"]
    return [_fmt_s(st["seconds"]), _fmt_s(st.get("cpu_seconds")), _fmt_s(st["peak_mb"])]


def _stage_rows(scales: dict[str, Any], names: list[str]) -> list[str]:
    """One row per stage, then the overhead, the pipeline and the total with generation."""
    lines = []
    extra = sorted({s for n in names for s in scales[n]["pipeline"]["stages"] if s not in STAGES})
    for stage in [*STAGES, *extra]:
        row: list[str] = []
        for n in names:
            sc = scales[n]
            row += _cells(
                sc["generate"] if stage == "generate" else sc["pipeline"]["stages"].get(stage)
            )
        lines.append(f"| {stage} | " + " | ".join(row) + " |")
    row = []
    for n in names:
        row += [_fmt_s(scales[n]["pipeline"]["overhead_seconds"]), "", ""]
    lines.append("| dagster/process overhead | " + " | ".join(row) + " |")
    row = []
    for n in names:
        p = scales[n]["pipeline"]
        row += [f"**{p['seconds']:.1f}**", _fmt_s(p.get("cpu_seconds")), f"**{p['peak_mb']:.0f}**"]
    lines.append("| **pipeline** | " + " | ".join(row) + " |")
    row = []
    for n in names:
        sc = scales[n]
        total = sc["generate"]["seconds"] + sc["pipeline"]["seconds"]
        cpu = (sc["generate"].get("cpu_seconds") or 0) + (sc["pipeline"].get("cpu_seconds") or 0)
        peak = max(sc["generate"]["peak_mb"], sc["pipeline"]["peak_mb"])
        row += [f"{total:.1f}", f"{cpu:.1f}", f"{peak:.0f}"]
    lines.append("| total (with generate) | " + " | ".join(row) + " |")
    return lines


FACTS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("floor.sql seconds", lambda s: s["floor"]["seconds"]),
    ("floor peak MiB", lambda s: s["floor"]["peak_mb"]),
    ("dbt stage / floor", lambda s: f"{s['floor']['dbt_ratio']}x"),
    (
        "dbt models feeding the two marts / floor",
        lambda s: f"{s['floor']['lineage_models_ratio']}x",
    ),
    ("dbt stage / floor, CPU seconds", _cpu_ratio_floor),
    ("floor agrees with dbt", lambda s: s["floor"]["agreement"]["agree"]),
    ("dbt step: models s", lambda s: s["dbt_profile"]["models_seconds"]),
    ("dbt step: tests + overhead s", lambda s: s["dbt_profile"]["tests_and_overhead_seconds"]),
    ("incremental daily run s", lambda s: s["incremental"]["seconds"]),
    ("incremental / full", lambda s: f"{100 * s['incremental']['share_of_full']:.1f}%"),
    ("incremental / full, CPU seconds", _cpu_share_incremental),
    ("incremental peak MiB", lambda s: s["incremental"]["peak_mb"]),
    *(
        (f"rows raw.{t}", lambda s, t=t: f"{s['raw_rows'][t]:,}")
        for t in ("customers", "orders", "order_items", "events")
    ),
    ("landing bytes", lambda s: f"{s['generate']['total_bytes'] / 2**20:.0f} MiB"),
    ("warehouse bytes", lambda s: f"{s['warehouse_bytes'] / 2**20:.0f} MiB"),
    ("load avg (1 min) start → end of run", _load_span),
)


def _fact_rows(scales: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["", "## Floor, incremental, data", "", "| | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---:|" * len(names))
    for label, fn in FACTS:
        vals = []
        for n in names:
            try:
                vals.append(fn(scales[n]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("–")
        lines.append(f"| {label} | " + " | ".join(str(v) for v in vals) + " |")
    return lines


def _summary_rows(report: dict[str, Any], names: list[str]) -> list[str]:
    lines: list[str] = []
    summary = report["summary"]
    if summary.get("targets"):
        lines += ["", "## Targets", "", "| target | value | limit | met |", "|---|---:|---:|---|"]
        for key, c in summary["targets"].items():
            lines.append(
                f"| {key} | {c['value']} | {c['target']} | {'yes' if c['met'] else 'NO'} |"
            )
    if "s1_s0_time_ratio" in summary:
        lines += [
            "",
            f"S1/S0: wall time {summary['s1_s0_time_ratio']}x, CPU time "
            f"{summary['s1_s0_cpu_ratio']}x, memory "
            f"{summary['s1_s0_memory_ratio']}x, events {summary['s1_s0_events_ratio']}x.",
        ]
    for n in names:
        prof = report["scales"][n]["dbt_profile"]["top_models"][:6]
        if prof:
            lines += ["", f"Slowest dbt models at {n}: " + ", ".join(
                f"{p['model']} {p['seconds']:.1f}s" for p in prof)]  # fmt: skip
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The whole report: stage table, floor/incremental/data facts, targets, slowest models."""
    scales = report["scales"]
    names = list(scales)
    lines = _header(report, names) + _stage_rows(scales, names) + _fact_rows(scales, names)
    return "\n".join(lines + _summary_rows(report, names)) + "\n"
