"""One ranked list per customer: buy-again for every buyer, discover for customers with
history, popular for cold start (and to fill a short list), with a reason in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.recommend import candidates, collaborative
from ml.recommend.data import GROUP_COLUMNS, Snapshot
from ml.recommend.params import KINDS, RecommendParams


@dataclass(frozen=True)
class Scored:
    """The final lists and, for the evaluation, each customer's discover-only list."""

    final: pd.DataFrame  # customer_id, rank, product_id, kind, score, reason
    discover: pd.DataFrame  # customer_id, rank, product_id (products new to the customer)
    cold: pd.Index  # the cold-start customers


def score_all(
    snap: Snapshot,
    groups: pd.DataFrame,
    params: RecommendParams,
    items: collaborative.ItemFactors | None = None,
    calibrate: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> Scored:
    """Rank suggestions for every customer in `groups` or in the snapshot, with stored ALS
    item vectors (`items`) or a fresh fit. `calibrate` maps the candidates (customer_id,
    product_id, kind, score) to their chance of being bought (ml.recommend.calibration),
    which then ranks every kind on one scale; without it the kinds keep a fixed order."""
    ids = pd.Index(np.union1d(groups["customer_id"].astype(str), snap.customers.astype(str)))
    orders = pd.Series(snap.orders, index=snap.customers).reindex(ids, fill_value=0)
    warm = ids[(orders > params.cold_start_orders).to_numpy()]
    cold = ids.difference(warm)
    col = collaborative.fit(snap, params, items)
    warm_ix = snap.customers.get_indexer(warm)
    disc = collaborative.discover(col, warm_ix, snap.on_sale, params)
    disc["score"] = disc["score"] * params.discover_scale * novelty(snap)[disc["cust_ix"]]
    disc["kind"] = "discover"
    again = candidates.buy_again(snap, params)
    # every buyer, cold start too: one basket of staples is the best guess at the next one
    again = again.assign(kind="buy_again")
    blend = pd.concat([again, disc[["cust_ix", "prod_ix", "score", "cf", "content", "kind"]]])
    blend["customer_id"] = np.asarray(snap.customers)[blend["cust_ix"].to_numpy()]
    pop = candidates.popular(snap, groups, ids, params)
    pop["reason"] = _popular_reasons(pop, groups)
    pop["kind"] = "popular"
    both = pd.concat([blend.drop(columns="cust_ix"), pop.drop(columns="driver")], ignore_index=True)
    both["product_id"] = snap.products["product_id"].to_numpy()[both["prod_ix"].to_numpy()]
    if calibrate is not None:
        both["model_score"] = both["score"]
        both["score"] = calibrate(both)
    final = _merge(both, params, calibrated=calibrate is not None)
    # the reasons of the discover suggestions that made a list (the nearest bought product
    # of each is the costly part: not for the candidates the lists left out)
    picked = final.index[final["kind"].to_numpy() == "discover"]
    chosen = final.loc[picked].assign(
        cust_ix=snap.customers.get_indexer(final.loc[picked, "customer_id"])
    )
    final.loc[picked, "reason"] = _discover_reasons(col, snap, chosen)
    discover_only = pd.concat(
        [
            disc.assign(customer_id=np.asarray(snap.customers)[disc["cust_ix"].to_numpy()]),
            pop[pop["customer_id"].isin(cold)],
        ]
    )
    discover_only = _ranked(discover_only, params.k)
    discover_only["product_id"] = snap.products["product_id"].to_numpy()[
        discover_only["prod_ix"].to_numpy()
    ]
    columns = ["customer_id", "rank", "product_id", "kind", "score", "reason"]
    return Scored(final[columns], discover_only[["customer_id", "rank", "product_id"]], cold)


def novelty(snap: Snapshot) -> np.ndarray:
    """Per customer: the share of the products they bought in the last 90 days that were
    new to them (first bought then); the shop's share for customers without such purchases.
    It puts a discover score on the scale of a buy-again probability: a customer who keeps
    to their staples gets few new products, an explorer many."""
    rows = snap.rows[snap.rows["purchase_orders_90d"] > 0]
    first = pd.to_datetime(rows["first_purchase_date"])
    new = (first > snap.cutoff - pd.Timedelta(days=90)).to_numpy()
    n = len(snap.customers)
    recent = np.bincount(rows["cust_ix"], minlength=n).astype(float)
    fresh = np.bincount(rows["cust_ix"], weights=new, minlength=n)
    shop = fresh.sum() / recent.sum() if recent.sum() else 1.0
    return np.where(recent > 0, fresh / np.maximum(recent, 1.0), shop)


def _ranked(
    frame: pd.DataFrame, k: int, tier: pd.Series | None = None, model_score: bool = False
) -> pd.DataFrame:
    """Best first per customer (tier, then score, then product), at most k, rank 1..k.
    With `model_score`, equal scores (an isotonic curve's flat steps) go by kind (buy-again,
    discover, popular) and then by the kind's own model_score."""
    frame = frame.assign(_tier=0 if tier is None else tier)
    keys, ascending = ["customer_id", "_tier", "score"], [True, True, False]
    if model_score:
        frame["_kind"] = frame["kind"].map({kind: i for i, kind in enumerate(KINDS)})
        keys, ascending = [*keys, "_kind", "model_score"], [*ascending, True, False]
    frame = frame.sort_values([*keys, "prod_ix"], ascending=[*ascending, True])
    frame = frame.drop_duplicates(["customer_id", "prod_ix"]).groupby("customer_id").head(k)
    frame = frame.drop(columns=["_tier", "_kind"], errors="ignore").reset_index(drop=True)
    frame["rank"] = frame.groupby("customer_id").cumcount() + 1
    return frame


def _merge(both: pd.DataFrame, params: RecommendParams, calibrated: bool) -> pd.DataFrame:
    """Calibrated (`score` the chance of a purchase, `model_score` the kind's own score):
    every kind by that chance. Else buy-again first (the strongest signal in most shops),
    then discover, then popular to fill up to k. Either way `discover_slots` places are kept
    for discover when a customer has more buy-again candidates."""
    kind = both["kind"].to_numpy()
    again_rank = (
        both[kind == "buy_again"]
        .sort_values("score", ascending=False, kind="stable")
        .groupby("customer_id")
        .cumcount()
    )
    if calibrated:
        tier = pd.Series(0.0, index=both.index)
    else:
        tier = np.select([kind == "discover", kind == "popular"], [1, 3], 0).astype(float)
        tier = pd.Series(tier, index=both.index)
    late = again_rank.index[again_rank.to_numpy() >= params.k - params.discover_slots]
    tier.loc[late] = 2 if not calibrated else 1
    return _ranked(both, params.k, tier, model_score=calibrated)


def _discover_reasons(
    col: collaborative.Collaborative, snap: Snapshot, disc: pd.DataFrame
) -> np.ndarray:
    """ "customers who buy <product> also buy this" when the collaborative part leads and the
    customer bought something; otherwise the brand or category they buy."""
    cust, prod = disc["cust_ix"].to_numpy(), disc["prod_ix"].to_numpy()
    names = snap.products["product_name"].astype(str).to_numpy()
    brands = snap.products["brand"].astype(str).to_numpy()
    cats = snap.products["category"].astype(str).to_numpy()
    anchor = collaborative.anchors(col, cust, prod)
    by_cf = (disc["cf"].to_numpy() >= disc["content"].to_numpy()) & (anchor >= 0)
    brand_share = col.brand_profile[cust, col.brand_of[prod]]
    also = "customers who buy " + pd.Series(names[np.maximum(anchor, 0)]) + " also buy this"
    brand = "from " + pd.Series(brands[prod]) + ", a brand you buy"
    cat = "popular in " + pd.Series(cats[prod]) + ", which you browse or buy"
    return np.where(by_cf, also, np.where(brand_share > 0.2, brand, cat))


def _popular_reasons(pop: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
    """The group whose popularity contributed most, in words."""
    g = groups.set_index("customer_id").reindex(pop["customer_id"])
    out = np.full(len(pop), candidates.GLOBAL_WORDS, dtype=object)
    driver = pop["driver"].to_numpy()
    for i, col in enumerate(GROUP_COLUMNS):
        value = g[col].to_numpy()
        pick = (driver == i) & pd.notna(value)
        out[pick] = [candidates.GROUP_WORDS[col].format(v) for v in value[pick]]
    return out
