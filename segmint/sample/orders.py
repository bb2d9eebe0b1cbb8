"""Orders and order lines of one block of customers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.sample.affinity import Tastes
from segmint.sample.calendar import DAY, Calendar, day_ts
from segmint.sample.catalogue import Products
from segmint.sample.draws import cum_rows, intensity_draws, pick, ragged_arange
from segmint.sample.fx import local_price
from segmint.sample.params import HOURS_ONLINE, HOURS_PHONE, HOURS_STORE
from segmint.sample.population import Population, purchase_activity


@dataclass
class Orders:
    cust: np.ndarray  # block-local customer index
    ts: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    status: np.ndarray
    gross: np.ndarray  # cents
    discount: np.ndarray  # cents
    n_lines: np.ndarray
    # order lines (sorted by order)
    line_order: np.ndarray
    line_product: np.ndarray
    line_qty: np.ndarray
    line_price: np.ndarray
    line_discount: np.ndarray


def simulate_orders(
    rng: np.random.Generator, cal: Calendar, pop: Population, prods: Products, tastes: Tastes
) -> Orders:
    """Orders and their lines for one block of customers."""
    days = cal.days
    lo = pop.alive_from
    hi = np.full_like(lo, days)
    custs, dayl = [], []
    for k in range(3):
        c, d = intensity_draws(rng, cal.order_cum[k], pop.lam * pop.mix[:, k], lo, hi)
        keep = rng.random(c.size) < purchase_activity(pop, c, d + 0.5)
        custs.append(c[keep])
        dayl.append(d[keep])
    cust = np.concatenate(custs)
    day = np.concatenate(dayl)
    channel = pick(rng.random(cust.size), pop.chan_cum[cust])
    hours = np.stack([cum_rows(HOURS_ONLINE)] * 2 + [cum_rows(HOURS_STORE), cum_rows(HOURS_PHONE)])
    hour = pick(rng.random(cust.size), hours[channel])
    ts = day_ts(cal, day) + hour * 3600 + rng.integers(0, 3600, cust.size)
    # first orders placed right at signup
    f = np.flatnonzero(pop.first_order)
    f_ts = pop.signup_ts[f] + rng.integers(120, 3600, f.size)
    f_ch = np.minimum(pick(rng.random(f.size), pop.chan_cum[f]), 1)
    # a win-back starts with a comeback purchase
    w = np.flatnonzero(pop.back < days)
    w_ts = cal.epoch0 + (pop.back[w] * DAY).astype(np.int64)
    w_ch = pick(rng.random(w.size), pop.chan_cum[w])
    cust = np.concatenate([cust, f, w])
    ts = np.concatenate([ts, f_ts, w_ts])
    channel = np.concatenate([channel, f_ch, w_ch])
    ok = (ts >= cal.epoch0) & (ts <= cal.end_ts - 600)
    cust, ts, channel = cust[ok], ts[ok], channel[ok]
    order = np.lexsort((cust, ts))
    return build_orders(rng, cal, pop, prods, tastes, cust[order], ts[order], channel[order])


def build_orders(
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    prods: Products,
    tastes: Tastes,
    cust: np.ndarray,
    ts: np.ndarray,
    channel: np.ndarray,
    rate_override: np.ndarray | None = None,
) -> Orders:
    """Status, lines and discounts of orders placed at (cust, ts) through channel (sorted by
    time, then customer); rate_override (per order) replaces the drawn discount rate."""
    day = (ts - cal.epoch0) // DAY
    n = cust.size
    u = rng.random(n)
    status = np.where(u < 0.05, 1, np.where(u < 0.05 + pop.return_p[cust], 2, 0))
    # lines: a seasonal main category, the rest mostly from the same category
    probs = np.cumsum(np.diff(pop.cat_cum[cust], prepend=0.0, axis=1) * cal.cat_season[day], axis=1)
    main_cat = pick(rng.random(n) * probs[:, -1], probs)
    n_lines = 1 + np.minimum(rng.poisson(pop.basket[cust]), 7)
    lo_ = np.repeat(np.arange(n), n_lines)
    first_line = ragged_arange(n_lines) == 0
    same = first_line | (rng.random(lo_.size) < 0.55)
    other = pick(rng.random(lo_.size), pop.cat_cum[cust[lo_]])
    cat = np.where(same, main_cat[lo_], other)
    prod = tastes.pick(rng, cust[lo_], cat, pop.premium[cust[lo_]], day[lo_])
    lo_, prod = tastes.extend(cust, day, lo_, prod)  # due staples, complements
    _, keep = np.unique(lo_ * prods.price.size + prod, return_index=True)
    lo_, prod = lo_[keep], prod[keep]
    n_lines = np.bincount(lo_, minlength=n)
    qty = 1 + np.minimum(rng.poisson(pop.qty[cust[lo_]]), 5)
    price = local_price(prods.price[prod], pop.currency[cust[lo_]])  # in the order's currency
    depth = cal.promo_depth[day]
    u1, u2 = rng.random(n), rng.random(n)
    rate = np.where(
        (depth > 0) & (u1 < pop.promo_use[cust]),
        depth,
        np.where(u2 < pop.coupon_p[cust], 0.10, 0.0),
    )
    if rate_override is not None:
        rate = np.where(rate_override > 0, rate_override, rate)
    line_disc = np.round(qty * price * rate[lo_]).astype(np.int64)
    gross = np.bincount(lo_, weights=qty * price, minlength=n).astype(np.int64)
    disc = np.bincount(lo_, weights=line_disc, minlength=n).astype(np.int64)
    return Orders(
        cust, ts, day, channel, status, gross, disc, n_lines, lo_, prod, qty, price, line_disc
    )


def merge_orders(a: Orders, b: Orders) -> Orders:
    """The orders of a and b in one Orders, sorted by time, then customer."""
    n_a = a.cust.size
    cust = np.concatenate([a.cust, b.cust])
    ts = np.concatenate([a.ts, b.ts])
    order = np.lexsort((cust, ts))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    line_order = rank[np.concatenate([a.line_order, b.line_order + n_a])]
    lines = np.argsort(line_order, kind="stable")

    def cat(name: str, idx: np.ndarray) -> np.ndarray:
        return np.concatenate([getattr(a, name), getattr(b, name)])[idx]

    return Orders(
        cust[order], ts[order], cat("day", order), cat("channel", order), cat("status", order),
        cat("gross", order), cat("discount", order), cat("n_lines", order), line_order[lines],
        cat("line_product", lines), cat("line_qty", lines), cat("line_price", lines),
        cat("line_discount", lines),
    )  # fmt: skip
