"""Qini curve, Qini coefficient and AUUC (Radcliffe 2007), in numpy.

Customers are ranked by predicted uplift; after targeting the top k, the Qini value is the
incremental outcome Q(k) = Y_t(k) - Y_c(k) * N_t(k) / N_c(k) (treated outcome minus the
control outcome scaled to the treated count). Random targeting is the straight line from 0
to Q(N). Curves are normalised by N, so the x axis is the share targeted and the y axis the
incremental outcome per member of the whole population.
"""

from __future__ import annotations

import numpy as np


def qini_curve(
    outcome: np.ndarray, treated: np.ndarray, uplift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(share targeted, incremental outcome per member) at every cut, starting at (0, 0)."""
    y = np.asarray(outcome, dtype=float)
    t = np.asarray(treated, dtype=bool)
    order = np.argsort(-np.asarray(uplift, dtype=float), kind="stable")
    y, t = y[order], t[order]
    n_t = np.cumsum(t)
    n_c = np.cumsum(~t)
    y_t = np.cumsum(np.where(t, y, 0.0))
    y_c = np.cumsum(np.where(t, 0.0, y))
    scaled = np.divide(y_c * n_t, n_c, out=np.zeros_like(y_c), where=n_c > 0)
    n = y.size
    x = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    return x, np.concatenate([[0.0], (y_t - scaled) / n])


def auuc(outcome: np.ndarray, treated: np.ndarray, uplift: np.ndarray) -> float:
    """Area under the Qini curve (trapezoids over the share targeted)."""
    x, q = qini_curve(outcome, treated, uplift)
    return float(np.trapezoid(q, x))


def random_auuc(outcome: np.ndarray, treated: np.ndarray) -> float:
    """Area under the random-targeting line: half the whole population's incremental outcome."""
    x, q = qini_curve(outcome, treated, np.zeros(np.asarray(outcome).size))
    return float(q[-1] / 2.0)


def qini_coefficient(outcome: np.ndarray, treated: np.ndarray, uplift: np.ndarray) -> float:
    """AUUC of the ranking minus AUUC of random targeting (0: no better than random)."""
    return auuc(outcome, treated, uplift) - random_auuc(outcome, treated)


def qini_interval(
    outcome: np.ndarray,
    treated: np.ndarray,
    uplift: np.ndarray,
    rounds: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Bootstrap percentile interval of the Qini coefficient (rows resampled with replacement)."""
    y = np.asarray(outcome, dtype=float)
    t = np.asarray(treated, dtype=bool)
    u = np.asarray(uplift, dtype=float)
    rng = np.random.default_rng(seed)
    draws = [
        qini_coefficient(y[i], t[i], u[i])
        for i in (rng.integers(0, y.size, y.size) for _ in range(rounds))
    ]
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)
