"""Discover: implicit ALS on the customer x product matrix, blended with content similarity
(the customer's categories and brands) so new products with few buyers can appear."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from implicit.cpu.als import AlternatingLeastSquares
from scipy import sparse

from ml.recommend.data import Snapshot, top_k
from ml.recommend.params import RecommendParams

_BATCH = 20_000


@dataclass(frozen=True)
class Collaborative:
    """A fitted ALS model and the content profile of each customer."""

    user_factors: np.ndarray
    item_factors: np.ndarray
    cat_profile: np.ndarray  # customers x categories, share of interaction weight
    brand_profile: np.ndarray  # customers x brands
    cat_of: np.ndarray  # category code per product
    brand_of: np.ndarray  # brand code per product
    prior: np.ndarray  # per product: 0.25 + 0.75 * sqrt(recent sales / max)
    seen: sparse.csr_matrix  # customers x products bought or returned (never discovered)


@dataclass(frozen=True)
class ItemFactors:
    """What the registry stores of a fitted ALS model: one vector per product (no customer)."""

    product_ids: np.ndarray
    factors: np.ndarray  # products x factors, float32


def _als(params: RecommendParams) -> AlternatingLeastSquares:
    return AlternatingLeastSquares(
        factors=params.factors,
        regularization=params.regularization,
        alpha=params.alpha,
        iterations=params.iterations,
        num_threads=params.threads,
        random_state=params.seed,
    )


def fit_items(snap: Snapshot, params: RecommendParams) -> ItemFactors:
    """Fit ALS on the snapshot's matrix (deterministic: random_state, one thread)."""
    model = _als(params)
    model.fit(snap.matrix.astype(np.float32), show_progress=False)
    ids = snap.products["product_id"].to_numpy()
    return ItemFactors(ids, np.asarray(model.item_factors, dtype=np.float32))


def user_factors(
    items: ItemFactors, snap: Snapshot, params: RecommendParams
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's vector solved against the item vectors (implicit's recalculate_user:
    the ALS least-squares step), so stored item vectors score today's customers, new ones
    and new purchases included; a product the item vectors do not know gets a zero vector
    (collaborative score 0; content similarity can still suggest it). Returns the item
    vectors aligned with the snapshot's products too."""
    known = pd.Index(items.product_ids).get_indexer(snap.products["product_id"])
    aligned = np.zeros((known.size, items.factors.shape[1]), dtype=np.float32)
    aligned[known >= 0] = items.factors[known[known >= 0]]
    model = _als(params)
    model.item_factors = aligned
    users = np.arange(snap.matrix.shape[0])
    if users.size == 0:
        return np.zeros((0, aligned.shape[1]), dtype=np.float32), aligned
    solved = model.recalculate_user(users, snap.matrix.astype(np.float32))
    return np.asarray(solved).reshape(users.size, -1), aligned


def fit(snap: Snapshot, params: RecommendParams, items: ItemFactors | None = None) -> Collaborative:
    """The collaborative model of a snapshot: stored item vectors (or a fresh ALS fit), the
    customers' vectors against them, and the content profiles."""
    items = items if items is not None else fit_items(snap, params)
    users, aligned = user_factors(items, snap, params)
    cat_of = pd.factorize(snap.products["category"])[0]
    brand_of = pd.factorize(snap.products["brand"])[0]
    sales = snap.products["sales_90d"].to_numpy(dtype=float)
    prior = 0.25 + 0.75 * np.sqrt(sales / max(sales.max(), 1.0))
    rows = snap.rows
    bought = (rows["purchase_orders"] > 0) | (rows["returned_orders"] > 0)
    seen = sparse.csr_matrix(
        (np.ones(int(bought.sum())), (rows.loc[bought, "cust_ix"], rows.loc[bought, "prod_ix"])),
        shape=snap.matrix.shape,
    )
    return Collaborative(
        users,
        aligned,
        _profile(snap.matrix, cat_of),
        _profile(snap.matrix, brand_of),
        cat_of,
        brand_of,
        prior,
        seen,
    )


def _profile(matrix: sparse.csr_matrix, codes: np.ndarray) -> np.ndarray:
    """Each customer's share of interaction weight per code (category or brand)."""
    onehot = sparse.csr_matrix((np.ones(codes.size), (np.arange(codes.size), codes)))
    totals = np.asarray(matrix @ onehot.todense())
    return totals / np.maximum(totals.sum(axis=1, keepdims=True), 1e-12)


def discover(
    col: Collaborative, cust_ix: np.ndarray, on_sale: np.ndarray, params: RecommendParams
) -> pd.DataFrame:
    """Top-k new products per customer: cust_ix, prod_ix, score, cf, content (the parts)."""
    parts = []
    for lo in range(0, cust_ix.size, _BATCH):
        idx = cust_ix[lo : lo + _BATCH]
        cf = col.user_factors[idx] @ col.item_factors.T
        cf = np.clip(cf / np.maximum(cf.max(axis=1, keepdims=True), 1e-9), 0.0, None)
        content = 0.5 * col.cat_profile[idx][:, col.cat_of]
        content += 0.5 * col.brand_profile[idx][:, col.brand_of]
        content *= col.prior
        cf_part, content_part = params.collaborative_weight * cf, params.content_weight * content
        score = cf_part + content_part
        score[:, ~on_sale] = -np.inf
        score[col.seen[idx].nonzero()] = -np.inf
        parts.append(_top_k(idx, score, params.k, cf_part, content_part))
    return pd.concat(parts, ignore_index=True) if parts else _top_k_empty()


def _top_k(
    idx: np.ndarray, score: np.ndarray, k: int, cf: np.ndarray, content: np.ndarray
) -> pd.DataFrame:
    """The k best finite scores per row, best first (ties: lower product index)."""
    k = min(k, score.shape[1])
    rows = np.repeat(np.arange(idx.size), k)
    cols = top_k(score, k).ravel()
    best = score[rows, cols]
    keep = np.isfinite(best)
    return pd.DataFrame(
        {
            "cust_ix": idx[rows][keep],
            "prod_ix": cols[keep],
            "score": best[keep],
            "cf": cf[rows, cols][keep],
            "content": content[rows, cols][keep],
        }
    )


def _top_k_empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in ("cust_ix", "prod_ix", "score")})


def anchors(col: Collaborative, cust_ix: np.ndarray, prod_ix: np.ndarray) -> np.ndarray:
    """Per (customer, suggested product): the customer's bought product whose ALS item
    vector is closest (cosine) to the suggestion; -1 when the customer bought nothing."""
    norm = col.item_factors / np.maximum(
        np.linalg.norm(col.item_factors, axis=1, keepdims=True), 1e-9
    )
    seen = col.seen
    counts = np.diff(seen.indptr)[cust_ix]
    pair = np.repeat(np.arange(cust_ix.size), counts)
    starts = np.repeat(seen.indptr[cust_ix], counts)
    offset = np.arange(pair.size) - np.repeat(np.cumsum(counts) - counts, counts)
    items = seen.indices[starts + offset]
    sim = np.einsum("ij,ij->i", norm[items], norm[prod_ix[pair]])
    out = np.full(cust_ix.size, -1, dtype=np.int64)
    if pair.size:
        order = np.lexsort((-sim, pair))
        first = np.r_[True, pair[order][1:] != pair[order][:-1]]
        out[pair[order][first]] = items[order][first]
    return out
