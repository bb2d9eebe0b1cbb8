"""The uplift model's knobs (Settings / ModelsResource pass them in)."""

from __future__ import annotations

from dataclasses import dataclass

MODEL_NAME = "uplift"
ID_COLUMNS = ("run_id", "audience", "customer_id", "send_date", "window_days")
TREATMENT = "treated"
OUTCOMES = ("purchased", "revenue")


@dataclass(frozen=True)
class UpliftParams:
    """min_* are floors below which no uplift is learned (the step writes nothing)."""

    learner: str = "x"  # x: X-learner, t: T-learner (two models); see ml.uplift.model
    min_treated: int = 200  # treated members with a passed window
    min_control: int = 200  # holdout members with a passed window
    min_purchasers: int = 20  # purchasers needed in each group (positive outcomes)
    test_share: float = 0.3  # share of customers held out for the Qini evaluation
    policy_share: float = 0.3  # offline policy comparison: top share of each run targeted
    max_iter: int = 100  # boosting iterations of each base learner
    learning_rate: float = 0.05
    min_samples_leaf: int = 100
    seed: int = 42
    threads: int = 1  # OpenMP threads of the base learners (the machine is shared)
