"""A recommendation run: evaluate on the time split, then score every customer as of now."""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from ml import runs
from ml.recommend import evaluation as ev
from ml.recommend.compose import Scored, score_all
from ml.recommend.data import cutoffs, purchased_in_window, snapshot
from ml.recommend.params import KINDS, MODEL_NAME, OUTPUT_COLUMNS, RecommendParams
from ml.runs import ModelRun

CODE_MODULES = tuple(
    f"ml.recommend.{m}"
    for m in ("params", "data", "collaborative", "candidates", "compose", "evaluation", "run")
)
METHODS = ("blend", "popularity", "buy_again_counts")


@dataclass
class RecommendResult:
    """ml.recommendations rows, the run record and the evaluation table (one row per method)."""

    recommendations: pd.DataFrame
    run: ModelRun
    evaluation: pd.DataFrame
    catalogue: pd.DataFrame  # product_id, category, on_sale, recommended (for the plots)


def recommend(
    interactions: pd.DataFrame,
    groups: pd.DataFrame,
    params: RecommendParams | None = None,
    run_at: datetime | None = None,
) -> RecommendResult:
    """Top-k suggestions per customer from the interactions mart (both cutoffs) and the
    customers' groups (customer_id, segment_name, country, acquisition_channel)."""
    params = params or RecommendParams()
    run_at = run_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if interactions.empty:
        raise ValueError(
            "the interactions mart is empty: no purchases, views or carts to learn from"
        )
    with threadpool_limits(limits=params.threads):
        days = cutoffs(interactions)
        as_of = days[-1]
        split = days[-2] if len(days) > 1 else as_of - pd.Timedelta(days=params.eval_days)
        evaluation = _evaluate(interactions, groups, split, as_of, params)
        snap = snapshot(interactions, as_of, params)
        scored = score_all(snap, groups, params)
    window = {
        "as_of": as_of.date().isoformat(),
        "eval_cutoff": split.date().isoformat(),
        "customers": len(scored.final["customer_id"].unique()),
        "products_on_sale": int(snap.on_sale.sum()),
        "interaction_rows": int(len(snap.rows)),
    }
    code = runs.code_version(*map(importlib.import_module, CODE_MODULES))
    version = runs.model_version(MODEL_NAME, asdict(params), window, code)
    recs = scored.final.assign(model_version=version, scored_at=run_at)[list(OUTPUT_COLUMNS)]
    metrics = {**_method_metrics(evaluation, "blend", params.k), **_final_metrics(scored, params)}
    metrics["coverage_now"] = ev.coverage(scored.final, snap)
    baselines = {m: _method_metrics(evaluation, m, params.k) for m in METHODS[1:]}
    run = ModelRun(MODEL_NAME, version, run_at, asdict(params), metrics, baselines, window)
    catalogue = snap.products[["product_id", "category", "on_sale"]].assign(
        recommended=lambda f: f["product_id"].isin(recs["product_id"])
    )
    return RecommendResult(recs.reset_index(drop=True), run, evaluation, catalogue)


def _evaluate(
    interactions: pd.DataFrame,
    groups: pd.DataFrame,
    split: pd.Timestamp,
    as_of: pd.Timestamp,
    params: RecommendParams,
) -> pd.DataFrame:
    """Fit at the split, score, and compare with the baselines on the window's purchases."""
    if split not in cutoffs(interactions):
        return pd.DataFrame({"method": list(METHODS)})
    snap = snapshot(interactions, split, params)
    truth = purchased_in_window(interactions, split, as_of)
    new = ev.new_to_customer(truth, snap)
    who = pd.Index(truth["customer_id"].unique())
    scored: Scored = score_all(snap, groups, params)
    k = params.k
    lists = {
        "blend": (scored.final, scored.discover),
        "popularity": (
            ev.popularity_lists(snap, who, k, exclude_seen=False),
            ev.popularity_lists(snap, who, k, exclude_seen=True),
        ),
        "buy_again_counts": (ev.own_counts_lists(snap, who, k), None),
    }
    rows = []
    for method, (recs, discover) in lists.items():
        row: dict[str, Any] = {"method": method, **ev.ranking_metrics(recs, truth, who, k)}
        row["coverage"] = ev.coverage(recs[recs["customer_id"].isin(who)], snap)
        row["discover_precision_at_k"] = (
            ev.ranking_metrics(discover, new, who, k)["precision_at_k"]
            if discover is not None
            else 0.0
        )
        row["customers"] = len(who)
        rows.append(row)
    return pd.DataFrame(rows)


def _method_metrics(evaluation: pd.DataFrame, method: str, k: int) -> dict[str, Any]:
    """One method's evaluation row as metrics named with k (precision_at_10, ...)."""
    row = evaluation.set_index("method").loc[method].to_dict()
    return {name.replace("_at_k", f"_at_{k}"): value for name, value in row.items()}


def _final_metrics(scored: Scored, params: RecommendParams) -> dict[str, Any]:
    """Counts by kind and whether every cold-start customer got k suggestions."""
    final = scored.final
    per_customer = final.groupby("customer_id").size()
    cold = per_customer.reindex(scored.cold, fill_value=0)
    kinds = final["kind"].value_counts().reindex(list(KINDS), fill_value=0)
    return {
        "suggestions_by_kind": {k: int(v) for k, v in kinds.items()},
        "cold_start_customers": len(scored.cold),
        "cold_start_full_share": float((cold >= params.k).mean()) if len(cold) else 1.0,
        "customers_with_k": float((per_customer >= params.k).mean()) if len(per_customer) else 0.0,
    }


def _nothing_to_learn(params: RecommendParams, run_at: datetime) -> RecommendResult:
    """An empty result (no order lines, views or carts yet), recorded like any run."""
    window = {"as_of": None, "interaction_rows": 0}
    code = runs.code_version(*map(importlib.import_module, CODE_MODULES))
    version = runs.model_version(MODEL_NAME, asdict(params), window, code)
    metrics = {"skipped": "no order lines, views or carts in marts.customer_product_interactions"}
    run = ModelRun(MODEL_NAME, version, run_at, asdict(params), metrics, {}, window)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
    empty = empty.astype({"rank": "int64", "score": "float64", "scored_at": "datetime64[ns]"})
    catalogue = pd.DataFrame(columns=["product_id", "category", "on_sale", "recommended"])
    return RecommendResult(empty, run, pd.DataFrame({"method": list(METHODS)}), catalogue)
