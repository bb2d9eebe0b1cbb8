"""Benchmark the recommender on generated data through the real chain.

generate -> ingest -> dbt (marts.customer_product_interactions, marts.customer_360) ->
ml.segmentation.segment (the cold-start groups) -> ml.recommend.recommend. Prints the
time-split evaluation (blend vs the two baselines), the issue's targets (blend precision@10
>= 1.1 x the better baseline, discover precision@10 >= 1.2 x popularity's, cold-start
customers get k suggestions in stock), wall time and peak memory of the recommendation
step, and writes benchmarks/results/recommend.json. Targets are reported, not asserted.

    .venv/bin/python benchmarks/recommend.py --customers 20000
    .venv/bin/python benchmarks/recommend.py --warehouse path/to/segmint.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_models import _log, _round  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "recommend.json"
DBT_PROJECT = ROOT / "dbt_project"
TARGETS = {"blend_vs_best_baseline_p10": 1.1, "discover_vs_popularity_p10": 1.2}


def build_warehouse(workdir: Path, customers: int, days: int, seed: int) -> Path:
    """Generate landing files, ingest them and build the marts the recommender reads."""
    from dbt.cli.main import dbtRunner

    workdir = workdir.resolve()  # dbt reads relative target paths from the project folder
    from segmint.ingest import ingest
    from segmint.sample import generate

    landing, warehouse = workdir / "landing", workdir / "segmint.duckdb"
    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    rows = generate(landing, customers=customers, days=days, seed=seed, fmt="parquet")
    _log(f"generated {rows} in {time.perf_counter() - t:.0f}s")
    for stale in (warehouse, Path(f"{warehouse}.wal")):
        stale.unlink(missing_ok=True)
    t = time.perf_counter()
    ingest(landing, warehouse)
    _log(f"ingested in {time.perf_counter() - t:.0f}s")
    t = time.perf_counter()
    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    common = [
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"),
    ]  # fmt: skip
    selection = ["--select", "+customer_360 +customer_product_interactions +product_affinity"]
    for command in (["seed"], ["run", *selection]):
        result = dbtRunner().invoke([*command, *common])
        if not result.success:
            raise SystemExit(f"dbt {command[0]} failed: {result.exception}")
    _log(f"dbt built the marts in {time.perf_counter() - t:.0f}s")
    return warehouse


def read_frames(warehouse: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interactions mart and the customers' groups (segment, country, channel)."""
    from ml.recommend import customer_groups
    from ml.segmentation import SegmentationParams, segment

    with duckdb.connect(str(warehouse), read_only=True) as con:
        interactions = con.execute("select * from marts.customer_product_interactions").df()
        current = con.execute("select * from marts.customer_360").df()
    segments = segment(current, SegmentationParams(seed=seed, bootstrap_rounds=2)).assignments
    return interactions, customer_groups(current, segments)


def kept_counts_precision(interactions: pd.DataFrame, k: int = 10) -> float:
    """Precision@k of the own-counts baseline held to the blend's rules (no product the
    customer returned after its last purchase, none off sale): how much of the gap to the
    plain baseline is those rules, which the plain baseline does not follow."""
    from ml.recommend import RecommendParams
    from ml.recommend import evaluation as ev
    from ml.recommend.candidates import returned_since
    from ml.recommend.data import cutoffs, purchased_in_window, snapshot

    days = cutoffs(interactions)
    snap = snapshot(interactions, days[-2], RecommendParams())
    truth = purchased_in_window(interactions, days[-2], days[-1])
    who = pd.Index(truth["customer_id"].unique())
    rows = snap.rows
    kept = ~returned_since(rows) & snap.on_sale[rows["prod_ix"].to_numpy()]
    held = type(snap)(
        snap.cutoff, rows[kept], snap.customers, snap.products, snap.matrix, snap.orders
    )
    return ev.ranking_metrics(ev.own_counts_lists(held, who, k), truth, who, k)["precision_at_k"]


def _table(evaluation: pd.DataFrame) -> str:
    cols = ["precision_at_k", "recall_at_k", "ndcg_at_k", "coverage", "discover_precision_at_k"]
    return evaluation[cols].round(4).to_string()


def main() -> None:
    """Run the benchmark and write benchmarks/results/recommend.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "recommend")
    parser.add_argument("--warehouse", type=Path, help="use an existing built warehouse")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warehouse = args.warehouse or build_warehouse(
        args.workdir, args.customers, args.days, args.seed
    )
    interactions, groups = read_frames(warehouse, args.seed)
    _log(f"read {len(interactions)} interaction rows, {len(groups)} customers")

    from ml.recommend import RecommendParams, recommend

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t, cpu0 = time.perf_counter(), time.process_time()
    result = recommend(interactions, groups, RecommendParams(seed=args.seed))
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
    peak_extra_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    metrics = dict(result.run.metrics)
    evaluation = result.evaluation.set_index("method")
    blend, base = evaluation.loc["blend"], evaluation.drop(index="blend")
    best = base["precision_at_k"].max()
    pop_disc = evaluation.loc["popularity", "discover_precision_at_k"]
    checks = {
        "blend_p10_ge_1.1x_best_baseline": bool(blend["precision_at_k"] >= 1.1 * best),
        "discover_p10_ge_1.2x_popularity": bool(blend["discover_precision_at_k"] >= 1.2 * pop_disc),
        "cold_start_all_full_and_in_stock": bool(metrics["cold_start_full_share"] == 1.0),
    }
    kept = kept_counts_precision(interactions)
    print(_table(evaluation))
    print(f"own counts without returned or off-sale products: precision@10 = {kept:.4f}")
    print(f"blend / best baseline p@10 = {blend['precision_at_k'] / best:.2f}")
    print(
        f"discover / popularity discover p@10 = {blend['discover_precision_at_k'] / pop_disc:.2f}"
    )
    print(
        f"recommendation step: {wall:.1f}s wall, {cpu:.1f}s CPU, "
        f"{peak_extra_mb:.0f} MB extra peak RSS"
        f"{' (at least: dbt ran in this process)' if args.warehouse is None else ''},"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    print(json.dumps(checks, indent=1))
    out = {
        "data": {
            "source": str(args.warehouse) if args.warehouse else "generated",
            "customers": None if args.warehouse else args.customers,
            "interaction_rows": len(interactions),
            "seed": args.seed,
        },
        "evaluation": _round(result.evaluation.to_dict(orient="records")),
        "metrics": _round(metrics),
        "targets": TARGETS,
        "checks": checks,
        "own_counts_kept_precision_at_10": round(kept, 4),
        "timing": {
            "recommend_wall_s": round(wall, 2),
            "recommend_cpu_s": round(cpu, 2),
            "peak_extra_rss_mb": round(peak_extra_mb),
            # ru_maxrss is the process's peak so far: a dbt build in this process may already
            # have set it higher, hiding the step's own peak (use --warehouse to measure it)
            "peak_is_lower_bound": args.warehouse is None,
            "load_average_1m": round(os.getloadavg()[0], 1),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    _log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
