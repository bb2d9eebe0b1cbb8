"""Random draws: independent seeded streams, categorical picks, Poisson arrivals."""

from __future__ import annotations

import numpy as np


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, key), stable across runs and block layouts."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def cum_rows(p: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities (last column exactly 1)."""
    c = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    c[..., -1] = 1.0
    return c


def pick(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Categorical draw per row: u uniform, cum a (n, k) or (k,) cumulative table."""
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0..n-1 within each group of the given sizes, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def intensity_draws(
    rng: np.random.Generator, cum: np.ndarray, rate: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inhomogeneous Poisson draws on days [lo, hi) per customer: (customer, day) arrays."""
    mu = rate * (cum[hi] - cum[lo])
    cnt = rng.poisson(np.maximum(mu, 0.0))
    cust = np.repeat(np.arange(rate.size), cnt)
    a, b = cum[lo][cust], cum[hi][cust]
    day = np.searchsorted(cum, a + rng.random(cust.size) * (b - a), side="right") - 1
    return cust, np.clip(day, lo[cust], np.maximum(hi[cust] - 1, lo[cust]))
