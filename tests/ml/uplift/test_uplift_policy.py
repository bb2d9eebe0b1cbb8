"""ml.uplift.policy: on held-out members, the top 30% by predicted uplift realises more uplift
than the top 30% by churn risk when churn risk has nothing to do with responding; the
figures are recorded in the run's metrics; the interval is the two-proportion Wald one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml.plots.style import headline_text
from ml.plots.uplift import policies
from ml.runs import model_runs_frame
from ml.uplift import UpliftParams, run_uplift
from ml.uplift.policy import churn_risk, compare_policies, policy_table, realised_uplift, top_share
from tests.ml.uplift.test_uplift_model import PARAMS, campaign

FIGURES = ("n", "n_treated", "n_control", "uplift", "ci_low", "ci_high", "per_1000")


def churn_campaign(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """campaign(): only segment A (email_open_rate > 0.5) responds to a send; recency_days,
    the churn-risk proxy, is drawn independently of everything (unrelated to responding)."""
    frame = campaign(n=n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    return frame.assign(recency_days=rng.integers(0, 400, n).astype(float))


def test_top_share_by_uplift_beats_top_share_by_unrelated_churn_risk() -> None:
    training = churn_campaign()
    current = training[["customer_id", "email_open_rate", "frequency", "recency_days"]].head(50)
    result = run_uplift(training, current, PARAMS)
    m = result.run.metrics
    assert m["policy_share"] == 0.3
    assert m["policy_churn_risk_by"].startswith("recency_days at send (proxy")
    for name in ("uplift", "churn_risk", "random"):
        assert {f"policy_{name}_{k}" for k in FIGURES} <= set(m)
    held = len(result.holdout)
    assert m["policy_uplift_n"] == m["policy_churn_risk_n"] == round(0.3 * held)
    assert m["policy_random_n"] == held
    # the responders' true uplift is 0.25 and half the members respond: targeting by uplift
    # should pick mostly responders (~0.25), churn risk a random half (~0.125), as everyone
    assert m["policy_uplift_uplift"] > m["policy_churn_risk_uplift"] + 0.05
    assert m["policy_uplift_ci_low"] > m["policy_random_uplift"]
    assert m["policy_uplift_ci_low"] < 0.25 < m["policy_uplift_ci_high"]
    assert m["policy_churn_risk_ci_low"] < 0.125 < m["policy_churn_risk_ci_high"]
    assert m["policy_uplift_per_1000"] == pytest.approx(1000 * m["policy_uplift_uplift"])
    # the difference of the two policies, with a paired bootstrap interval above 0
    diff = m["policy_uplift_uplift"] - m["policy_churn_risk_uplift"]
    assert m["policy_uplift_minus_churn_risk"] == pytest.approx(diff)
    assert 0 < m["policy_uplift_minus_churn_risk_ci_low"] < diff
    assert m["policy_uplift_minus_churn_risk_ci_high"] > diff
    # recorded in ml.model_runs next to the Qini, and the same again for the same seed
    row = model_runs_frame([result.run]).iloc[0]
    stored = json.loads(row["metrics"])
    assert {"qini_purchased", "policy_uplift_uplift", "policy_churn_risk_uplift"} <= set(stored)
    again = run_uplift(training, current, PARAMS).run.metrics
    assert {k: v for k, v in again.items() if k.startswith("policy_")} == {
        k: v for k, v in m.items() if k.startswith("policy_")
    }
    table = policy_table(m)
    assert "| uplift | " in table and "| churn_risk | " in table and "recency_days" in table
    assert "uplift minus churn_risk: +" in table
    title, _ = headline_text(policies(m))
    assert title.startswith(
        "Top 30% by uplift realised +31.0 purchase-rate points, more than by churn risk "
        "(+17.5; difference +13.5, 95% CI +"
    )


def test_the_run_depends_on_the_seed_not_on_the_row_order() -> None:
    training = churn_campaign(n=1500)
    shuffled = training.sample(frac=1, random_state=7).reset_index(drop=True)
    first, second = (
        run_uplift(t, training.head(10), PARAMS).run.metrics for t in (training, shuffled)
    )
    assert first == second


def test_churn_probability_at_send_time_is_used_when_the_frame_has_it() -> None:
    frame = pd.DataFrame({"recency_days": [1.0, 500.0, 2.0], "churn_probability": [0.9, 0.1, 0.5]})
    score, described = churn_risk(frame)
    assert described == "churn_probability at send time"
    assert list(score) == [0.9, 0.1, 0.5]
    score, described = churn_risk(frame.drop(columns="churn_probability"))
    assert described.startswith("recency_days") and list(score) == [1.0, 500.0, 2.0]


def test_top_share_takes_the_top_of_each_run() -> None:
    frame = pd.DataFrame({"run_id": ["a"] * 10 + ["b"] * 10})
    score = np.r_[np.arange(10.0), np.arange(10.0) + 100]
    mask = top_share(frame, score, 0.3, seed=1)
    # pooled, the top 6 would all be run b's
    assert list(np.flatnonzero(mask)) == [7, 8, 9, 17, 18, 19]


def test_realised_uplift_is_the_wald_difference_of_two_proportions() -> None:
    # one run: 300 treated, 90 buy (0.30); 100 control, 20 buy (0.20)
    y = np.r_[np.ones(90), np.zeros(210), np.ones(20), np.zeros(80)].astype(bool)
    t = np.r_[np.ones(300), np.zeros(100)].astype(bool)
    frame = pd.DataFrame({"run_id": "r", "treated": t, "purchased": y})
    got = realised_uplift(frame, np.ones(400, bool))
    se = np.sqrt(0.3 * 0.7 / 300 + 0.2 * 0.8 / 100)
    assert got["uplift"] == pytest.approx(0.1)
    assert got["ci_low"] == pytest.approx(0.1 - 1.959964 * se, abs=1e-5)
    assert got["ci_high"] == pytest.approx(0.1 + 1.959964 * se, abs=1e-5)
    assert got["per_1000"] == pytest.approx(100.0)
    assert (got["n"], got["n_treated"], got["n_control"]) == (400, 300, 100)
    # no control among the targeted: no estimate rather than a made-up one
    none = realised_uplift(frame, t)
    assert np.isnan(none["uplift"]) and none["runs_left_out"] == 1


def test_the_policy_share_is_a_parameter() -> None:
    training = churn_campaign(n=1500)
    params = UpliftParams(**{**PARAMS.__dict__, "policy_share": 0.5})
    result = run_uplift(training, training.head(10), params)
    assert result.run.metrics["policy_share"] == 0.5
    assert result.run.metrics["policy_uplift_n"] == round(0.5 * len(result.holdout))
    again = compare_policies(result.holdout, 0.5, params.seed)
    assert again["policy_uplift_uplift"] == result.run.metrics["policy_uplift_uplift"]
