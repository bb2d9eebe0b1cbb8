"""Product affinity: what a customer picks within a category, and what comes back.

Real baskets are not popularity draws: a customer has tastes (styles and brands they come
back to), consumables are bought again on a personal cycle (coffee every few weeks, shampoo
every month or two), some products go together (a camera and a charger, pasta and olive
oil), and the catalogue changes (launches, discontinued lines). This module adds that
structure to the orders and browsing of a block:

- every product loads on a few latent "styles"; products of one brand share most of their
  loading, so a taste for a style reads as brand loyalty; a customer's taste is a random
  vector over the styles, and picks within a (category, tier) are weighted by popularity
  times exp(taste . loading);
- a customer keeps a few staples among the consumables they like, each with its own
  interval; an order includes a staple when a cycle has passed since their previous order;
- half the products have a complement (mostly from the same category, some from a partner
  category), added to an order now and then;
- a few products launch during the window and a few are discontinued: neither is sold (or
  browsed) outside its life.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.sample.calendar import DAY, Calendar
from segmint.sample.catalogue import Products
from segmint.sample.draws import ragged_arange, stream
from segmint.sample.reference import CATEGORIES

STYLES = 6  # latent taste dimensions
TASTE_STRENGTH = 0.9  # how much taste outweighs popularity within a category
BRAND_SHARE = 0.8  # share of a product's loading that its brand carries
# consumables: median days between repurchases per category
CYCLE_DAYS = {"grocery": 16.0, "beauty": 45.0}
STAPLES_MEAN = 5.0  # staples of a customer who only buys consumables (Poisson mean)
STAPLE_P = 0.8  # odds a due staple goes into the order
COMPLEMENT_SHARE = 0.5  # products that have a complement
COMPLEMENT_P = 0.2  # odds the complement joins an order line
# partner category for complements (the rest come from the same category)
PARTNER = {"fashion": "jewelry", "jewelry": "fashion", "toys": "books", "books": "toys"}
LAUNCH_SHARE, RETIRE_SHARE = 0.06, 0.05
_CHUNK = 100_000


@dataclass(frozen=True)
class Affinity:
    """Catalogue-level structure, the same for every block."""

    loading: np.ndarray  # (products, STYLES) float32
    log_pop: np.ndarray  # log popularity within its (category, tier) slot
    slots: np.ndarray  # (2 * categories, max slot size) product index, -1 padding
    launch: np.ndarray  # first day on sale (window days)
    retire: np.ndarray  # first day off sale (days: never)
    complement: np.ndarray  # product index, -1 for none
    cycle: np.ndarray  # typical repurchase days (0: not a consumable)
    category: np.ndarray  # category index per product


def _slot_members(prods: Products) -> tuple[np.ndarray, np.ndarray]:
    """Padded product indexes per (category, tier) slot, and popularity within the slot."""
    # pick_key is slot + cumulative popularity in (0, 1]: a slot's last product has key
    # slot + 1 exactly, so the slot is ceil(key) - 1 (floor put it in the next slot, and left
    # the catalogue's last product with an unset weight)
    slot = np.ceil(prods.pick_key).astype(np.int64) - 1
    frac = prods.pick_key - slot
    weight = np.full(frac.size, np.nan)
    members = [np.flatnonzero(slot == k) for k in range(2 * len(CATEGORIES))]
    for idx in members:
        weight[idx] = np.diff(frac[idx], prepend=0.0)
    if np.isnan(weight).any():
        raise ValueError("a product's pick key is outside every (category, tier) slot")
    width = max(m.size for m in members)
    slots = np.full((len(members), width), -1, dtype=np.int64)
    for k, idx in enumerate(members):
        slots[k, : idx.size] = idx
    return slots, np.log(np.maximum(weight, 1e-9))


def _complements(rng: np.random.Generator, prods: Products, log_pop: np.ndarray) -> np.ndarray:
    """One complement for about half the products, by popularity, never the product itself."""
    n = prods.price.size
    comp = np.full(n, -1, dtype=np.int64)
    has = rng.random(n) < COMPLEMENT_SHARE
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    pop = np.exp(log_pop)
    for p in np.flatnonzero(has):
        cat = int(prods.category[p])
        partner = cat_index.get(PARTNER.get(CATEGORIES[cat], ""), cat)
        target = partner if rng.random() < 0.3 else cat
        cand = np.flatnonzero((prods.category == target) & (np.arange(n) != p))
        comp[p] = rng.choice(cand, p=pop[cand] / pop[cand].sum())
    return comp


def build_affinity(seed: int, prods: Products, days: int) -> Affinity:
    """Styles, complements, consumable cycles and product lives of the catalogue."""
    rng = stream(seed, 31)
    n = prods.price.size
    brands = sorted(set(prods.brand))
    brand_vec = rng.normal(size=(len(brands), STYLES))
    b = np.array([brands.index(x) for x in prods.brand])
    own = rng.normal(size=(n, STYLES))
    loading = (BRAND_SHARE * brand_vec[b] + np.sqrt(1 - BRAND_SHARE**2) * own).astype(np.float32)
    slots, log_pop = _slot_members(prods)
    u = rng.random(n)
    launch = np.where(
        u < LAUNCH_SHARE, rng.integers(days // 3, max(days - 30, days // 3 + 1), n), 0
    )
    retired = (u >= LAUNCH_SHARE) & (u < LAUNCH_SHARE + RETIRE_SHARE)
    retire = np.where(retired, rng.integers(days // 4, max(days - 60, days // 4 + 1), n), days)
    cycle = np.zeros(n)
    for name, median in CYCLE_DAYS.items():
        idx = np.flatnonzero(prods.category == CATEGORIES.index(name))
        cycle[idx] = median * np.exp(rng.normal(0, 0.35, idx.size))
    comp = _complements(rng, prods, log_pop)
    return Affinity(loading, log_pop, slots, launch, retire, comp, cycle, prods.category)


@dataclass(frozen=True)
class Tastes:
    """The tastes and staples of one block's customers."""

    aff: Affinity
    rng: np.random.Generator  # the block's affinity stream (staples, complements)
    score: np.ndarray  # (customers, products) float32: taste + log popularity
    epoch0: int
    days: int
    staple_cust: np.ndarray
    staple_prod: np.ndarray
    staple_every: np.ndarray  # days
    staple_phase: np.ndarray  # days

    def pick(
        self,
        rng: np.random.Generator,
        cust: np.ndarray,
        cat: np.ndarray,
        premium: np.ndarray,
        day: np.ndarray,
    ) -> np.ndarray:
        """A product per row in the given category, by taste and popularity, on sale that
        day (two uniform draws per row from rng, like catalogue.pick_products)."""
        tier = rng.random(cat.size) < premium
        u = rng.random(cat.size)
        out = np.empty(cat.size, dtype=np.int64)
        for lo in range(0, cat.size, _CHUNK):
            sl = slice(lo, lo + _CHUNK)
            cand = self.aff.slots[2 * cat[sl] + tier[sl]]
            safe = np.maximum(cand, 0)
            w = np.exp(self.score[cust[sl, None], safe]) * (cand >= 0)
            d = day[sl, None]
            on_sale = w * ((self.aff.launch[safe] <= d) & (d < self.aff.retire[safe]))
            w = np.where(on_sale.sum(axis=1, keepdims=True) > 0, on_sale, w)
            cum = np.cumsum(w, axis=1)
            k = (u[sl, None] * cum[:, -1:] >= cum).sum(axis=1)
            out[sl] = cand[np.arange(cand.shape[0]), np.minimum(k, cand.shape[1] - 1)]
        return out

    def session_day(self, ts: np.ndarray) -> np.ndarray:
        """Window day of a timestamp, clipped to the window."""
        return np.clip((ts - self.epoch0) // DAY, 0, self.days - 1)

    def extend(
        self, cust: np.ndarray, day: np.ndarray, line_order: np.ndarray, prod: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Order lines plus the staples that are due and some complements (not deduplicated)."""
        s_order, s_prod = self._due_staples(cust, day)
        lo_ = np.concatenate([line_order, s_order])
        pr = np.concatenate([prod, s_prod])
        comp = self.aff.complement[pr]
        d = day[lo_]
        add = (comp >= 0) & (self.rng.random(pr.size) < COMPLEMENT_P)
        add &= (self.aff.launch[comp] <= d) & (d < self.aff.retire[comp])
        return np.concatenate([lo_, lo_[add]]), np.concatenate([pr, comp[add]])

    def _due_staples(self, cust: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(order, product) of every staple due at an order: a cycle passed since the
        customer's previous order (about half the staples join a first order)."""
        by_cust = np.lexsort((day, cust))
        counts = np.bincount(cust, minlength=self.score.shape[0])
        start = np.cumsum(counts) - counts
        prev = np.full(cust.size, -np.inf)
        same = np.r_[False, cust[by_cust][1:] == cust[by_cust][:-1]]
        prev[by_cust[same]] = day[by_cust][np.flatnonzero(same) - 1]
        sc = self.staple_cust
        pos = np.repeat(start[sc], counts[sc]) + ragged_arange(counts[sc])
        order = by_cust[pos]
        j = np.repeat(np.arange(sc.size), counts[sc])
        every, phase, p = self.staple_every[j], self.staple_phase[j], self.staple_prod[j]
        t, t0 = day[order], prev[order]
        due = np.where(
            np.isfinite(t0),
            np.floor((t - phase) / every) > np.floor((t0 - phase) / every),
            self.rng.random(order.size) < 0.5,
        )
        due &= self.rng.random(order.size) < STAPLE_P
        due &= (self.aff.launch[p] <= t) & (t < self.aff.retire[p])
        return order[due], p[due]


def block_tastes(
    seed: int, block: int, aff: Affinity, cat_cum: np.ndarray, cal: Calendar
) -> Tastes:
    """Taste vectors and staples of a block's customers (cat_cum: their category odds)."""
    rng = stream(seed, 30, block)
    n = cat_cum.shape[0]
    taste = rng.normal(size=(n, STYLES)).astype(np.float32)
    score = TASTE_STRENGTH * taste @ aff.loading.T + aff.log_pop.astype(np.float32)
    cat_p = np.diff(cat_cum, prepend=0.0, axis=1)
    consumable = aff.cycle > 0
    cons_cats = sorted({CATEGORIES.index(c) for c in CYCLE_DAYS})
    k = np.minimum(rng.poisson(STAPLES_MEAN * cat_p[:, cons_cats].sum(axis=1)), 6)
    s_cust = np.repeat(np.arange(n), k)
    w = np.exp(score[s_cust]) * consumable * cat_p[s_cust][:, aff.category]
    cum = np.cumsum(w, axis=1)
    u = rng.random(s_cust.size)[:, None] * cum[:, -1:]
    s_prod = np.minimum((u >= cum).sum(axis=1), aff.cycle.size - 1)
    pairs = np.unique(s_cust * aff.cycle.size + s_prod)
    s_cust, s_prod = pairs // aff.cycle.size, pairs % aff.cycle.size
    every = np.maximum(aff.cycle[s_prod] * np.exp(rng.normal(0, 0.3, s_cust.size)), 4.0)
    phase = rng.random(s_cust.size) * every
    return Tastes(aff, rng, score, cal.epoch0, cal.days, s_cust, s_prod, every, phase)
