"""A recommendation run: evaluate on the time split, then score every customer as of now."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ml import registry as registry_
from ml import runs
from ml.recommend import calibration as calibration_
from ml.recommend import evaluation as ev
from ml.recommend.collaborative import ItemFactors, fit_items
from ml.recommend.compose import Scored, score_all
from ml.recommend.data import Snapshot, cutoffs, purchased_in_window, snapshot
from ml.recommend.params import KINDS, MODEL_NAME, OUTPUT_COLUMNS, RecommendParams
from ml.runs import ModelRun

CODE_MODULES = tuple(
    f"ml.recommend.{m}"
    for m in (
        "params", "data", "collaborative", "candidates", "calibration", "compose", "evaluation",
        "run",
    )
)  # fmt: skip
METHODS = ("blend", "popularity", "buy_again_counts")


@dataclass
class RecommendResult:
    """ml.recommendations rows, the run record and the evaluation table (one row per method)."""

    recommendations: pd.DataFrame
    run: ModelRun
    evaluation: pd.DataFrame
    catalogue: pd.DataFrame  # product_id, category, on_sale, recommended (for the plots)


@dataclass
class RecsFit:
    """What a recommendation champion stores (no customer rows): the ALS item vectors fitted
    at the as-of date (they score any later day's customers) and at the evaluation split
    (they score a challenger's window in the gate), the kinds' calibration learned on the
    split (None: the mart had no split) and the evaluation it was chosen on."""

    params: dict[str, Any]
    items: ItemFactors
    eval_items: ItemFactors | None
    evaluation: pd.DataFrame
    window: dict[str, Any]
    calibration: calibration_.Calibration | None = None


@dataclass
class _Split:
    """The time split of one run: the snapshot at the split and what was bought after it."""

    snap: Snapshot
    truth: pd.DataFrame
    new: pd.DataFrame
    who: pd.Index


def recommend(
    interactions: pd.DataFrame,
    groups: pd.DataFrame,
    params: RecommendParams | None = None,
    run_at: datetime | None = None,
    registry: tuple[registry_.ModelStore, registry_.Policy] | None = None,
    log: Callable[[str], None] = print,
) -> RecommendResult:
    """Top-k suggestions per customer from the interactions mart (both cutoffs) and the
    customers' groups (customer_id, segment_name, country, acquisition_channel).

    With a `registry` the champion's item vectors score today's customers unless a retrain
    is due (ml.registry); a retrain evaluates on the time split and refits ALS first.
    """
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
        snap = snapshot(interactions, as_of, params)
        family = _family(interactions, groups, snap, split, params)
        selection = registry_.choose(family, registry, log)
        chosen: RecsFit = selection.payload
        scored = score_all(snap, groups, params, chosen.items, chosen.calibration)
    window = {
        **chosen.window,
        "scored_as_of": as_of.date().isoformat(),
        "customers": len(scored.final["customer_id"].unique()),
        "products_on_sale": int(snap.on_sale.sum()),
        "interaction_rows": int(len(snap.rows)),
    }
    version = selection.version
    recs = scored.final.assign(model_version=version, scored_at=run_at)[list(OUTPUT_COLUMNS)]
    evaluation = chosen.evaluation
    metrics = {**_method_metrics(evaluation, "blend", params.k), **_final_metrics(scored, params)}
    metrics["coverage_now"] = ev.coverage(scored.final, snap)
    baselines = {m: _method_metrics(evaluation, m, params.k) for m in METHODS[1:]}
    run = ModelRun(
        MODEL_NAME, version, run_at, chosen.params, metrics, baselines, window, None,
        selection.decision,
    )  # fmt: skip
    catalogue = snap.products[["product_id", "category", "on_sale"]].assign(
        recommended=lambda f: f["product_id"].isin(recs["product_id"])
    )
    return RecommendResult(recs.reset_index(drop=True), run, evaluation, catalogue)


def _family(
    interactions: pd.DataFrame,
    groups: pd.DataFrame,
    snap: Snapshot,
    split: pd.Timestamp,
    params: RecommendParams,
) -> registry_.Family:
    """Recommendations as ml.registry sees them: fit = evaluate on the split, refit ALS at
    the as-of date; the gate's metric is the blend's precision@k on the split's window."""
    code = runs.code_version(*map(importlib.import_module, CODE_MODULES))
    run_params = asdict(params)

    def fit() -> registry_.Fitted:
        window_split = _split(interactions, split, snap.cutoff, params)
        eval_items = fit_items(window_split.snap, params) if window_split else None
        evaluation, calibration = _evaluate(window_split, groups, params, eval_items)
        window = {"as_of": snap.cutoff.date().isoformat(), "eval_cutoff": split.date().isoformat()}
        version = runs.model_version(MODEL_NAME, run_params, window, code)
        payload = RecsFit(
            run_params, fit_items(snap, params), eval_items, evaluation, window, calibration
        )
        metric = _method_metrics(evaluation, "blend", params.k).get(f"precision_at_{params.k}")
        meta = {"as_of": snap.cutoff, "window": window, "params": run_params}
        return registry_.Fitted(payload, version, metric, meta, window_split)

    def evaluate(champion: RecsFit, challenger: registry_.Fitted) -> float | None:
        if champion.eval_items is None or challenger.context is None:
            return None
        own = RecommendParams(**champion.params)  # the champion as it was chosen
        table, _ = _evaluate(challenger.context, groups, own, champion.eval_items)
        return _method_metrics(table, "blend", params.k).get(f"precision_at_{params.k}")

    def compatible(champion: RecsFit) -> str | None:
        return "params_changed" if champion.params != run_params else None

    return registry_.Family(
        MODEL_NAME, f"precision_at_{params.k}", fit, evaluate, code, snap.cutoff,
        compatible=compatible, horizon_days=params.eval_days,
    )  # fmt: skip


def _split(
    interactions: pd.DataFrame, split: pd.Timestamp, as_of: pd.Timestamp, params: RecommendParams
) -> _Split | None:
    """The split's snapshot and the purchases after it (None: the mart has no such cutoff)."""
    if split not in cutoffs(interactions):
        return None
    snap = snapshot(interactions, split, params)
    truth = purchased_in_window(interactions, split, as_of)
    new = ev.new_to_customer(truth, snap)
    return _Split(snap, truth, new, pd.Index(truth["customer_id"].unique()))


def _evaluate(
    window: _Split | None,
    groups: pd.DataFrame,
    params: RecommendParams,
    items: ItemFactors | None,
) -> tuple[pd.DataFrame, calibration_.Calibration | None]:
    """Score at the split with `items` (kinds calibrated across customer halves), compare
    with the baselines on the window's purchases; and the calibration of the whole split,
    which ranks the lists of the as-of date."""
    if window is None or items is None:
        return pd.DataFrame({"method": list(METHODS)}), None
    snap, truth, new, who = window.snap, window.truth, window.new, window.who
    candidates: list[pd.DataFrame] = []

    def calibrate(frame: pd.DataFrame) -> np.ndarray:
        candidates.append(frame[["customer_id", "product_id", "kind", "score"]].copy())
        return calibration_.cross_fitted(frame, truth)

    scored: Scored = score_all(snap, groups, params, items, calibrate)
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
    return pd.DataFrame(rows), calibration_.fit(candidates[0], truth)


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
