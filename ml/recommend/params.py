"""Recommendation parameters and the names every module shares."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAME = "recommendations"
KINDS = ("buy_again", "discover", "popular")
OUTPUT_COLUMNS = (
    "customer_id",
    "rank",
    "product_id",
    "kind",
    "score",
    "reason",
    "model_version",
    "scored_at",
)


@dataclass(frozen=True)
class RecommendParams:
    """Hyper-parameters of a recommendation run."""

    k: int = 10
    eval_days: int = 30  # the time split: fit up to as_of - eval_days, evaluate after it
    stale_days: int = 60  # products not sold in this many days are never recommended
    popular_days: int = 90  # popularity window (the purchase_orders_90d of the mart)
    # customers with at most this many orders get no discover: what they bought that is due
    # again (buy_again), then `popular` among their groups
    cold_start_orders: int = 1
    factors: int = 32
    regularization: float = 0.05
    alpha: float = 20.0  # ALS confidence: 1 + alpha * log1p(interaction_weight)
    iterations: int = 15
    # discover blend: collaborative (ALS) vs content (the customer's categories and brands)
    collaborative_weight: float = 0.7
    content_weight: float = 0.3
    # a discover score = blend (0..1) x the customer's share of new products among their
    # recent purchases (compose.novelty) x this
    discover_scale: float = 1.0
    # places of a list kept for discover even when the customer's buy-again candidates are
    # likelier to be bought (novelty a marketer wants to show); 0: the calibrated chances
    # of each kind decide (ml.recommend.calibration)
    discover_slots: int = 0
    # buy-again candidates kept per customer (best due first): deeper than k, because the
    # calibration may rank a customer's 12th staple above their best discover or popular one
    buy_again_candidates: int = 30
    # cold start: weight of the popularity among the customer's segment, country, channel
    group_weights: tuple[float, float, float, float] = (0.4, 0.3, 0.2, 0.1)  # + global
    seed: int = 42
    threads: int = 1
