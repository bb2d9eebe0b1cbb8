"""ml.uplift: the T-learner ranks the responding segment first; too few outcomes, no scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.uplift import NotEnoughOutcomes, UpliftParams, qini_coefficient, qini_curve, run_uplift

PARAMS = UpliftParams(max_iter=40, min_treated=100, min_control=100, min_purchasers=10)


def campaign(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """One past send: everyone buys at 10% anyway; only frequent email readers (segment A,
    email_open_rate > 0.5) buy 25 points more often when exported; holdout 30%."""
    rng = np.random.default_rng(seed)
    open_rate = rng.uniform(0, 1, n)
    frequency = rng.poisson(3, n).astype(float)
    treated = rng.uniform(size=n) >= 0.3
    responds = open_rate > 0.5
    p = 0.10 + 0.25 * (treated & responds)
    bought = rng.uniform(size=n) < p
    return pd.DataFrame(
        {
            "run_id": "r1",
            "audience": "newsletter",
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "send_date": pd.Timestamp("2024-03-01"),
            "window_days": 30,
            "treated": treated,
            "purchased": bought,
            "revenue": np.where(bought, 50.0, 0.0),
            "email_open_rate": open_rate,
            "frequency": frequency,
        }
    )


def test_uplift_ranks_the_responding_segment_first():
    training = campaign()
    current = training[["customer_id", "email_open_rate", "frequency"]].head(400)
    result = run_uplift(training, current, PARAMS)
    m, b = result.run.metrics, result.run.baseline_metrics
    assert m["qini_purchased"] > b["qini_purchased"] == 0.0
    assert m["auuc_purchased"] > b["auuc_purchased"]
    scores = result.scores.merge(current, on="customer_id")
    responders = scores[scores["email_open_rate"] > 0.5]["uplift_purchase"]
    others = scores[scores["email_open_rate"] <= 0.5]["uplift_purchase"]
    assert responders.mean() > others.mean() + 0.1
    top = scores.nlargest(len(scores) // 4, "uplift_purchase")
    assert (top["email_open_rate"] > 0.5).mean() > 0.9
    assert list(result.scores.columns) == [
        "customer_id", "audience", "uplift_purchase", "uplift_revenue", "model_version",
    ]  # fmt: skip
    assert len(result.scores) == len(current)


def test_too_few_outcomes_is_a_clear_message_and_no_scores():
    training = campaign(n=150)
    current = training[["customer_id", "email_open_rate", "frequency"]]
    with pytest.raises(NotEnoughOutcomes) as err:
        run_uplift(training, current, UpliftParams())
    text = str(err.value)
    assert text.startswith("not enough outcomes yet (")
    n_t = int(training["treated"].sum())
    assert f"{n_t} treated, {150 - n_t} control, needed 200 treated" in text


def test_qini_of_a_perfect_ranking_beats_random_and_a_reversed_one_loses():
    y = np.array([1, 1, 0, 0, 0, 0, 1, 0], dtype=float)
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    # treated responders first, then the other treated, then control buyers last
    good = np.array([8, 7, 2, 1, 4, 3, -1, 0], dtype=float)
    x, q = qini_curve(y, t, good)
    assert x[0] == q[0] == 0.0 and x[-1] == 1.0
    # whole population: 2 treated buyers - 1 control buyer * 4/4 = 1, per member 1/8
    assert q[-1] == pytest.approx(1 / 8)
    assert qini_coefficient(y, t, good) > 0 > qini_coefficient(y, t, -good)
