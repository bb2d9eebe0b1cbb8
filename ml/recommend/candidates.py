"""Buy-again (due by repurchase interval) and popular (cold start by group) suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.recommend.data import GROUP_COLUMNS, Snapshot, top_k
from ml.recommend.params import RecommendParams

_BATCH = 20_000
GROUP_WORDS = {
    "segment_name": "popular with customers in segment {}",
    "country": "popular with customers in {}",
    "acquisition_channel": "popular with customers who came via {}",
}
GLOBAL_WORDS = "popular across the shop lately"


def buy_again(snap: Snapshot, params: RecommendParams) -> pd.DataFrame:
    """Products the customer bought (and did not return since), still on sale, scored by the chance
    of a purchase within the horizon: 1 - exp(-horizon x rate), rate = (orders - 1 + the
    product's repeat rate) / max(days since the first purchase, interval), fading once
    several intervals have passed without one. The interval is the customer's own, else the
    product's median over the customers who rebought it; products nobody rebuys are not
    candidates."""
    rows = snap.rows
    prods = snap.products
    mine = rows[(rows["purchase_orders"] > 0) & ~returned_since(rows)]
    mine = mine[snap.on_sale[mine["prod_ix"].to_numpy()]]
    own = mine["repurchase_interval_days"].to_numpy(dtype=float)
    shop = prods["interval"].to_numpy(dtype=float)[mine["prod_ix"].to_numpy()]
    interval = np.where(np.isfinite(own) & (own > 0), own, shop)
    ok = np.isfinite(interval) & (interval > 0)
    mine, interval, own_ok = mine[ok], interval[ok], np.isfinite(own[ok]) & (own[ok] > 0)
    n = mine["purchase_orders"].to_numpy(dtype=float)
    rate = prods["repeat_rate"].fillna(0).to_numpy()[mine["prod_ix"].to_numpy()]
    since = mine["days_since_last_purchase"].to_numpy(dtype=float)
    first = pd.to_datetime(mine["first_purchase_date"])
    known = (snap.cutoff - first).dt.days.to_numpy(dtype=float)
    per_day = (n - 1 + rate) / np.maximum(known, interval)
    due = 1.0 - np.exp(-params.eval_days * per_day)
    fade = np.exp(-np.maximum(0.0, since / interval - 3.0) / 3.0)
    out = pd.DataFrame(
        {
            "cust_ix": mine["cust_ix"].to_numpy(),
            "prod_ix": mine["prod_ix"].to_numpy(),
            "score": due * fade,
        }
    )
    days = pd.Series(np.round(interval).astype(int).astype(str))
    ago = pd.Series(since.astype(int).astype(str))
    out["reason"] = np.where(
        own_ok,
        "bought every ~" + days + " days, last " + ago + " days ago",
        "bought " + ago + " days ago; customers rebuy it every ~" + days + " days",
    )
    out = out[out["score"] > 0].sort_values(
        ["cust_ix", "score", "prod_ix"], ascending=[True, False, True]
    )
    out = out.groupby("cust_ix", sort=False).head(params.buy_again_candidates)
    return out.reset_index(drop=True)


def returned_since(rows: pd.DataFrame) -> np.ndarray:
    """The customer returned the product and has not bought it since: a return after the
    last purchase. A product returned once and bought again later (a wrong size exchanged,
    a damaged pack replaced) is still a staple."""
    returned = rows["returned_orders"].to_numpy() > 0
    last_buy = pd.to_datetime(rows["last_purchase_date"])
    last_return = pd.to_datetime(rows["last_return_date"])
    return returned & ~(last_buy > last_return).to_numpy()


def group_popularity(
    snap: Snapshot, groups: pd.DataFrame
) -> dict[str, tuple[pd.Index, np.ndarray]]:
    """Per group column: (group values, values x products share of recent purchases)."""
    recent = snap.rows.loc[snap.rows["purchase_orders_90d"] > 0]
    recent = recent.merge(groups, on="customer_id", how="left")
    out = {}
    n_prod = len(snap.products)
    for col in GROUP_COLUMNS:
        values = pd.Index(groups[col].dropna().unique())
        table = np.zeros((values.size + 1, n_prod))  # last row: unknown value (zeros)
        code = values.get_indexer(recent[col])
        ok = code >= 0
        np.add.at(
            table,
            (code[ok], recent["prod_ix"].to_numpy()[ok]),
            recent["purchase_orders_90d"].to_numpy()[ok],
        )
        table /= np.maximum(table.sum(axis=1, keepdims=True), 1e-12)
        out[col] = (values, table)
    total = np.bincount(recent["prod_ix"], weights=recent["purchase_orders_90d"], minlength=n_prod)
    out["global"] = (pd.Index([]), (total / max(total.sum(), 1e-12))[None, :])
    return out


def popular(
    snap: Snapshot,
    groups: pd.DataFrame,
    customer_ids: pd.Index,
    params: RecommendParams,
) -> pd.DataFrame:
    """Top-k on-sale products per customer by the weighted popularity among customers of
    their segment, country and acquisition channel (and the whole shop), never a product
    they bought. Columns: customer_id, prod_ix, score, reason."""
    tables = group_popularity(snap, groups)
    g = groups.set_index("customer_id").reindex(customer_ids)
    codes = {c: tables[c][0].get_indexer(g[c]) for c in GROUP_COLUMNS}
    cust_ix = snap.customers.get_indexer(customer_ids)
    seen_rows = snap.rows[(snap.rows["purchase_orders"] > 0) | (snap.rows["returned_orders"] > 0)]
    weights = params.group_weights
    parts = []
    for lo in range(0, customer_ids.size, _BATCH):
        sl = slice(lo, lo + _BATCH)
        # each group's popularity row of the customer (code -1 reads the zero row), weighted
        parts_of = [
            (w, tables[c][1], codes[c][sl]) for w, c in zip(weights, GROUP_COLUMNS, strict=False)
        ]
        parts_of.append((weights[-1], tables["global"][1], np.zeros(len(cust_ix[sl]), int)))
        score = sum(w * table[code] for w, table, code in parts_of)
        score[:, ~snap.on_sale] = -np.inf
        batch_ix = cust_ix[sl]
        row_of = np.full(len(snap.customers), -1)
        row_of[batch_ix[batch_ix >= 0]] = np.flatnonzero(batch_ix >= 0)
        pos = row_of[seen_rows["cust_ix"].to_numpy()]
        score[pos[pos >= 0], seen_rows["prod_ix"].to_numpy()[pos >= 0]] = -np.inf
        parts.append(_top(customer_ids[sl], score, parts_of, params.k))
    return pd.concat(parts, ignore_index=True)


def _top(ids: pd.Index, score: np.ndarray, parts_of: list, k: int) -> pd.DataFrame:
    """k best finite scores per row with the reason: the group of the largest contribution
    (evaluated at the chosen cells only)."""
    k = min(k, score.shape[1])
    rows = np.repeat(np.arange(len(ids)), k)
    cols = top_k(score, k).ravel()
    best = score[rows, cols]
    keep = np.isfinite(best)
    contrib = np.stack([w * table[code[rows], cols] for w, table, code in parts_of])
    out = pd.DataFrame({"customer_id": np.asarray(ids)[rows], "prod_ix": cols, "score": best})
    out["driver"] = contrib.argmax(axis=0)
    return out[keep].reset_index(drop=True)
