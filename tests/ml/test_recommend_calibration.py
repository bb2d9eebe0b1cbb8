"""The kinds of suggestion on one scale: what was bought in the split's window decides
whether buy-again or discover leads a list, not a fixed order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.recommend import calibration
from ml.recommend.compose import _merge
from ml.recommend.params import RecommendParams


def _candidates(customers: int) -> pd.DataFrame:
    """Per customer: 3 buy-again candidates with high scores and 3 discover with low ones."""
    rows = []
    for c in range(customers):
        for j in range(3):
            rows.append((f"C{c}", f"AGAIN{j}", "buy_again", 0.9 - 0.1 * j))
            rows.append((f"C{c}", f"NEW{j}", "discover", 0.09 - 0.01 * j))
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "kind", "score"])
    frame["prod_ix"] = frame["product_id"].astype("category").cat.codes
    return frame


def _fashion_truth(candidates: pd.DataFrame) -> pd.DataFrame:
    """A shop where customers buy new products, never the same one twice."""
    new = candidates[candidates["kind"] == "discover"]
    return new.loc[new["product_id"] != "NEW2", ["customer_id", "product_id"]]


def test_a_shop_that_buys_new_products_gets_discover_first():
    candidates = _candidates(40)
    cal = calibration.fit(candidates, _fashion_truth(candidates))
    calibrated = candidates.assign(model_score=candidates["score"], score=cal(candidates))
    ranked = _merge(calibrated, RecommendParams(k=4), True)
    first = ranked[ranked["rank"] <= 2]
    assert set(first["kind"]) == {"discover"}
    # without the calibration the fixed order puts buy-again first
    fixed = _merge(candidates, RecommendParams(k=4), False)
    assert set(fixed.loc[fixed["rank"] <= 2, "kind"]) == {"buy_again"}


def test_calibrated_chances_are_shares_bought_and_keep_the_order_within_a_kind():
    candidates = _candidates(40)
    cal = calibration.fit(candidates, _fashion_truth(candidates))
    chance = cal(candidates)
    again = candidates["kind"].to_numpy() == "buy_again"
    assert np.all(chance[again] == 0.0)
    new = candidates.assign(chance=chance)[~again].groupby("product_id")["chance"].first()
    assert new["NEW0"] == new["NEW1"] == 1.0 and new["NEW2"] == 0.0


def test_a_customers_own_window_does_not_shape_their_cross_fitted_chances():
    candidates = _candidates(40)
    truth = _fashion_truth(candidates)
    before = calibration.cross_fitted(candidates, truth)
    # C0 bought nothing after all: only the other half's chances may move
    changed = calibration.cross_fitted(candidates, truth[truth["customer_id"] != "C0"])
    mine = (candidates["customer_id"] == "C0").to_numpy()
    same_half = (
        calibration.folds(candidates["customer_id"]) == calibration.folds(pd.Series(["C0"]))[0]
    )
    np.testing.assert_array_equal(changed[mine], before[mine])
    np.testing.assert_array_equal(changed[same_half], before[same_half])
    assert not np.array_equal(changed[~same_half], before[~same_half])
