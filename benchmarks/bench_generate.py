"""Benchmark: wall time, peak memory and output size of the sample data generator."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from segmint.sample import generate

RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"


def _peak_rss_mb() -> dict[str, float]:
    """Peak resident set size of this process and of its (largest) child, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(children, 1)}


def _ram_gb() -> float:
    """Total physical memory in GiB."""
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)


def _bytes_on_disk(root: Path) -> dict[str, int]:
    """Bytes per table folder."""
    return {
        d.name: sum(f.stat().st_size for f in d.iterdir() if f.is_file())
        for d in sorted(root.iterdir())
        if d.is_dir()
    }


def main() -> None:
    """Run generate once at the requested scale and record the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--format", dest="fmt", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--dirt-rate", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=None, help="Output folder (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="Keep the generated files")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages[stage] = round(time.perf_counter() - t0, 2)
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr, flush=True)

    rows = generate(
        out, args.customers, args.days, args.seed, args.fmt, dirt_rate=args.dirt_rate,
        progress=progress,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    print(file=sys.stderr)
    sizes = _bytes_on_disk(out)
    peak = _peak_rss_mb()
    result = {
        "benchmark": "generate",
        "params": {
            "customers": args.customers,
            "days": args.days,
            "seed": args.seed,
            "format": args.fmt,
            "dirt_rate": args.dirt_rate,
        },
        "wall_seconds": round(wall, 2),
        "stage_done_at_seconds": stages,
        "peak_rss_mb": peak,
        "peak_rss_mb_max": max(peak.values()),
        "rows": rows,
        "events_per_customer": round(rows["events"] / args.customers, 1),
        "bytes_on_disk": sizes,
        "total_bytes": sum(sizes.values()),
        "machine": {
            "nproc": os.cpu_count(),
            "ram_gb": _ram_gb(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.keep and args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
