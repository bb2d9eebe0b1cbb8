"""Time-split evaluation: precision, recall and NDCG at k, catalogue coverage and discover
precision of the blend and of two baselines (global popularity, own purchase counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.recommend.data import Snapshot


def ranking_metrics(
    recs: pd.DataFrame, truth: pd.DataFrame, customers: pd.Index, k: int
) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k (binary relevance) over `customers`; a
    customer without suggestions counts as no hit."""
    if customers.empty:
        return {"precision_at_k": np.nan, "recall_at_k": np.nan, "ndcg_at_k": np.nan}
    recs = recs[recs["customer_id"].isin(customers) & (recs["rank"] <= k)]
    hits = recs.merge(truth, on=["customer_id", "product_id"])
    n_hits = hits.groupby("customer_id").size().reindex(customers, fill_value=0)
    n_true = truth.groupby("customer_id").size().reindex(customers, fill_value=0)
    dcg = (1 / np.log2(hits["rank"] + 1)).groupby(hits["customer_id"]).sum()
    dcg = dcg.reindex(customers, fill_value=0.0)
    discount = np.r_[0.0, np.cumsum(1 / np.log2(np.arange(2, k + 2)))]
    idcg = discount[np.minimum(n_true.to_numpy(), k)]
    recall = np.where(n_true > 0, n_hits / n_true.clip(lower=1), 0.0)
    ndcg = np.where(idcg > 0, dcg.to_numpy() / np.where(idcg > 0, idcg, 1), 0.0)
    return {
        "precision_at_k": float((n_hits / k).mean()),
        "recall_at_k": float(recall.mean()),
        "ndcg_at_k": float(ndcg.mean()),
    }


def coverage(recs: pd.DataFrame, snap: Snapshot) -> float:
    """Share of the on-sale catalogue that appears in at least one list."""
    on_sale = set(snap.products.loc[snap.on_sale, "product_id"])
    return len(set(recs["product_id"]) & on_sale) / max(len(on_sale), 1)


def popularity_lists(
    snap: Snapshot, customers: pd.Index, k: int, exclude_seen: bool
) -> pd.DataFrame:
    """Baseline: the same top products by purchases of the last 90 days for everyone
    (optionally skipping what the customer already bought)."""
    prods = snap.products[snap.on_sale].sort_values(
        ["sales_90d", "product_id"], ascending=[False, True]
    )
    seen = snap.rows.loc[snap.rows["purchase_orders"] > 0, ["customer_id", "product_id"]]
    depth = k + (int(seen.groupby("customer_id").size().max()) if exclude_seen and len(seen) else 0)
    top = prods["product_id"].to_numpy()[:depth]
    pairs = pd.DataFrame(
        {
            "customer_id": np.repeat(np.asarray(customers), top.size),
            "product_id": np.tile(top, len(customers)),
        }
    )
    pairs["order"] = np.tile(np.arange(top.size), len(customers))
    if exclude_seen:
        pairs = pairs.merge(seen.assign(_seen=True), on=["customer_id", "product_id"], how="left")
        pairs = pairs[pairs["_seen"].isna()].drop(columns="_seen")
    pairs = pairs.sort_values(["customer_id", "order"]).groupby("customer_id").head(k)
    pairs["rank"] = pairs.groupby("customer_id").cumcount() + 1
    return pairs[["customer_id", "rank", "product_id"]]


def own_counts_lists(snap: Snapshot, customers: pd.Index, k: int) -> pd.DataFrame:
    """Baseline: the customer's own most-bought products (ties: most recent first)."""
    rows = snap.rows[(snap.rows["purchase_orders"] > 0) & snap.rows["customer_id"].isin(customers)]
    rows = rows.sort_values(
        ["customer_id", "purchase_orders", "last_purchase_date", "product_id"],
        ascending=[True, False, False, True],
    )
    out = rows.groupby("customer_id").head(k).copy()
    out["rank"] = out.groupby("customer_id").cumcount() + 1
    return out[["customer_id", "rank", "product_id"]]


def new_to_customer(truth: pd.DataFrame, snap: Snapshot) -> pd.DataFrame:
    """The window's purchases of products the customer had not bought before the cutoff."""
    seen = snap.rows.loc[snap.rows["purchase_orders"] > 0, ["customer_id", "product_id"]]
    both = truth.merge(seen.assign(_seen=True), on=["customer_id", "product_id"], how="left")
    return both[both["_seen"].isna()].drop(columns="_seen").reset_index(drop=True)
