"""The product catalogue: categories, brands, names, prices, costs and popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.sample.columns import ids
from segmint.sample.draws import stream
from segmint.sample.reference import ADJECTIVES, BRANDS, CAT_PRICE, CAT_PRICE_SD, CATEGORIES, NOUNS

N_PRODUCTS = 480


@dataclass(frozen=True)
class Products:
    category: np.ndarray  # category index per product (products sorted by category)
    price: np.ndarray  # cents
    cost: np.ndarray  # cents
    pick_key: np.ndarray  # category + cumulative within-category popularity
    brand: list[str]
    name: list[str]


def build_products(seed: int) -> Products:
    """A fixed catalogue: categories, brands, names, prices and costs (cost < price)."""
    rng = stream(seed, 2)
    weights = np.array([0.14, 0.16, 0.12, 0.07, 0.10, 0.09, 0.09, 0.08, 0.09, 0.06])
    per_cat = np.maximum(np.round(weights * N_PRODUCTS).astype(int), 10)
    category = np.repeat(np.arange(len(CATEGORIES)), per_cat)
    n = category.size
    raw = CAT_PRICE[category] * np.exp(rng.normal(0, CAT_PRICE_SD[category]))
    price = np.maximum(np.round(raw) * 100 - 1, 199).astype(np.int64)  # x.99 price points
    # premium tier: the dearest ~35% of each category; catalogue ordered by (category, tier)
    rank = np.empty(n)
    for c in range(len(CATEGORIES)):
        idx = np.flatnonzero(category == c)
        # stable sorts: the default quicksort orders equal prices differently on CPUs with
        # other SIMD sort kernels (AVX-512 vs AVX2), and then the same seed gives another
        # catalogue
        order_in_cat = np.argsort(price[idx], kind="stable")
        rank[idx] = np.argsort(order_in_cat, kind="stable") / idx.size
    tier = (rank >= 0.65).astype(np.int64)
    order = np.lexsort((rng.random(n), tier, category))
    price, tier = price[order], tier[order]
    cost = np.round(price * rng.uniform(0.35, 0.75, n)).astype(np.int64)
    popularity = rng.pareto(1.2, n) + 0.05
    slot = 2 * category + tier
    key = np.empty(n)
    for k in range(2 * len(CATEGORIES)):
        idx = np.flatnonzero(slot == k)
        cum = np.cumsum(popularity[idx]) / popularity[idx].sum()
        cum[-1] = 1.0
        key[idx] = k + cum
    brand_i = rng.integers(0, 1000, n)
    noun_i = rng.integers(0, 1000, n)
    adj_i = rng.integers(0, len(ADJECTIVES), n)
    brand = [BRANDS[c][b % len(BRANDS[c])] for c, b in zip(category, brand_i, strict=True)]
    name = [
        f"{br} {ADJECTIVES[a]} {NOUNS[c][k % len(NOUNS[c])]}"
        for br, a, c, k in zip(brand, adj_i, category, noun_i, strict=True)
    ]
    return Products(category, price, cost, key, brand, name)


def pick_products(
    rng: np.random.Generator, prods: Products, cat: np.ndarray, premium: np.ndarray
) -> np.ndarray:
    """A product of the given category per row, premium tier with the given odds, by popularity."""
    tier = rng.random(cat.size) < premium
    u = 2 * cat + tier + rng.random(cat.size) * (1 - 1e-12)
    return np.minimum(np.searchsorted(prods.pick_key, u, side="right"), prods.price.size - 1)


def department_labels(prods: Products, departments: int) -> list[str]:
    """Category label per product when the shop has `departments` departments (a grocery's
    dairy, bakery, ...): each category splits into about departments / categories parts,
    named `<category>_<k>`, products spread over them whatever their price tier."""
    per = max(1, round(departments / len(CATEGORIES)))
    labels = []
    seen = np.zeros(len(CATEGORIES), dtype=np.int64)
    for c in prods.category:
        labels.append(f"{CATEGORIES[c]}_{seen[c] % per + 1}" if per > 1 else CATEGORIES[c])
        seen[c] += 1
    return labels


def products_table(prods: Products, departments: int | None = None) -> pa.Table:
    """The products table in contract column order (`departments`: see department_labels)."""
    n = prods.price.size
    if departments:
        category = pa.array(department_labels(prods, departments))
    else:
        category = pa.array(CATEGORIES).take(pa.array(prods.category))
    return pa.table(
        {
            "product_id": ids("P", np.arange(1, n + 1), 5),
            "name": pa.array(prods.name),
            "category": category,
            "brand": pa.array(prods.brand),
            "unit_price": pa.array(prods.price / 100.0),
            "unit_cost": pa.array(prods.cost / 100.0),
        }
    )
