"""One scale for the three kinds of suggestion: the chance that the customer buys the
product within the evaluation window, learned on the time split.

Buy-again, discover and popular scores come from different models, so a fixed order of
kinds (buy-again first, then discover) is a guess about the shop: right for a grocer, where
staples are rebought, wrong for a fashion shop, where customers rarely buy the same item
twice. Each kind's score is mapped to the share of such suggestions that were bought in
the split's window, by isotonic regression (scikit-learn; monotone, so within a kind the
order is kept), and the lists rank every candidate on that shared scale.

The production lists use a calibration fitted on the whole split. The evaluation of the
split itself is cross-fitted: customers are cut in two halves by a hash of their id and
each half is ranked with the calibration learned on the other half, so no customer's own
window purchases shape their list.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

_FOLDS = 2


@dataclass(frozen=True)
class Calibration:
    """Per kind, the isotonic step function: score thresholds and the bought share at each."""

    curves: dict[str, tuple[np.ndarray, np.ndarray]]

    def __call__(self, candidates: pd.DataFrame) -> np.ndarray:
        """The calibrated chance of each candidate (kind, score)."""
        return self.predict(candidates["kind"], candidates["score"])

    def predict(self, kinds: pd.Series, scores: pd.Series) -> np.ndarray:
        """The calibrated chance of each (kind, score); a kind never seen on the split keeps
        no chance (0), so it only fills lists."""
        out = np.zeros(len(scores))
        kind, score = kinds.to_numpy(), scores.to_numpy(dtype=float)
        for name, (x, y) in self.curves.items():
            pick = kind == name
            out[pick] = np.interp(score[pick], x, y)  # what IsotonicRegression.predict does
        return out


def fit(candidates: pd.DataFrame, truth: pd.DataFrame) -> Calibration:
    """Learn each kind's curve from candidates (customer_id, product_id, kind, score) and
    what was bought in the window (customer_id, product_id)."""
    hit = _hits(candidates, truth)
    curves = {}
    for name in pd.unique(candidates["kind"]):
        pick = (candidates["kind"] == name).to_numpy()
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip")
        iso.fit(candidates["score"].to_numpy(dtype=float)[pick], hit[pick])
        curves[str(name)] = (iso.X_thresholds_, iso.y_thresholds_)
    return Calibration(curves)


def cross_fitted(candidates: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """Each candidate's chance from the calibration of the other customers' half."""
    fold = folds(candidates["customer_id"])
    out = np.zeros(len(candidates))
    for f in range(_FOLDS):
        mine = fold == f
        if mine.all() or not mine.any():
            continue  # one half empty: no other half to learn from (no chance, 0)
        cal = fit(candidates[~mine], truth)
        out[mine] = cal.predict(candidates["kind"][mine], candidates["score"][mine])
    return out


def folds(customer_ids: pd.Series) -> np.ndarray:
    """A stable half per customer (CRC-32 of the id), the same on every run and machine."""
    ids = customer_ids.astype(str)
    codes = {c: zlib.crc32(c.encode()) % _FOLDS for c in pd.unique(ids)}
    return ids.map(codes).to_numpy()


def _hits(candidates: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """1.0 where the candidate was bought in the window."""
    key = ["customer_id", "product_id"]
    bought = pd.MultiIndex.from_frame(truth[key].astype(str))
    return pd.MultiIndex.from_frame(candidates[key].astype(str)).isin(bought).astype(float)
