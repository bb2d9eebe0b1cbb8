"""Recommendation figures: precision@k by method (and for discover) against the baselines,
and how much of the catalogue the lists cover, per category."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ml.recommend import RecommendResult


def figures(result: RecommendResult) -> dict[str, Figure]:
    """The run's figures by file name (the precision chart needs the time-split window)."""
    out = {"recommend_coverage": coverage(result)}
    if "precision_at_k" in result.evaluation.columns:
        out["recommend_precision"] = precision(result)
    return out


def precision(result: RecommendResult) -> Figure:
    """precision@k and discover precision@k of the blend and both baselines."""
    table = result.evaluation.set_index("method")
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    x = np.arange(len(table))
    for offset, col, label in (
        (-0.2, "precision_at_k", "all suggestions"),
        (0.2, "discover_precision_at_k", "discover (new to the customer)"),
    ):
        ax.bar(x + offset, table[col].fillna(0).to_numpy(), width=0.4, label=label)
    k = result.run.params.get("k", 10)
    ax.set_xticks(x, list(table.index))
    ax.set_ylabel(f"precision@{k}")
    ax.set_title("Held-out window: blend vs baselines")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def coverage(result: RecommendResult) -> Figure:
    """Share of each category's on-sale products that appear in someone's list."""
    cat = result.catalogue[result.catalogue["on_sale"]]
    share = cat.groupby("category")["recommended"].mean().sort_values()
    fig = Figure(figsize=(7, max(3, 0.35 * len(share) + 1)))
    ax = fig.subplots()
    ax.barh(list(share.index), share.to_numpy())
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of on-sale products recommended to someone")
    ax.set_title("Catalogue coverage by category")
    fig.tight_layout()
    return fig
