"""An uplift run: evaluate on held-out customers by Qini / AUUC vs random and by the offline
policy comparison (top share by uplift vs by churn risk vs everyone, ml.uplift.policy),
refit, score now."""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit
from threadpoolctl import threadpool_limits

from ml import runs
from ml.runs import ModelRun
from ml.uplift.model import check_outcomes, fit_uplift, predict_uplift
from ml.uplift.params import MODEL_NAME, TREATMENT, UpliftParams
from ml.uplift.policy import compare_policies
from ml.uplift.qini import auuc, qini_coefficient, qini_interval, random_auuc

CODE_MODULES = (
    "ml.uplift.params",
    "ml.uplift.model",
    "ml.uplift.qini",
    "ml.uplift.policy",
    "ml.uplift.run",
)
SCORE_COLUMNS = ("customer_id", "audience", "uplift_purchase", "uplift_revenue", "model_version")


@dataclass
class UpliftResult:
    """Scores to write (ml.uplift_scores), the run record, the held-out rows (for the plot)."""

    scores: pd.DataFrame
    run: ModelRun
    holdout: pd.DataFrame


def evaluate(holdout: pd.DataFrame, seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Model and random-targeting metrics on held-out rows with predictions; the Qini
    coefficients with a 95% bootstrap interval (above 0: better than random targeting)."""
    t = holdout[TREATMENT].astype(bool).to_numpy()
    metrics: dict[str, Any] = {"n_holdout": len(holdout), "n_holdout_treated": int(t.sum())}
    baseline: dict[str, Any] = {"name": "random targeting"}
    for outcome, score in (("purchased", "uplift_purchase"), ("revenue", "uplift_revenue")):
        y = holdout[outcome].astype(float).to_numpy()
        u = holdout[score].to_numpy()
        metrics[f"qini_{outcome}"] = qini_coefficient(y, t, u)
        low, high = qini_interval(y, t, u, seed=seed)
        metrics[f"qini_{outcome}_ci_low"], metrics[f"qini_{outcome}_ci_high"] = low, high
        metrics[f"auuc_{outcome}"] = auuc(y, t, u)
        baseline[f"qini_{outcome}"] = 0.0
        baseline[f"auuc_{outcome}"] = random_auuc(y, t)
    return metrics, baseline


def split(frame: pd.DataFrame, params: UpliftParams) -> tuple[np.ndarray, np.ndarray]:
    """Train / held-out row indexes; every row of one customer on the same side."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=params.test_share, random_state=params.seed)
    return next(splitter.split(frame, groups=frame["customer_id"].astype(str)))


def run_uplift(
    training: pd.DataFrame,
    current: pd.DataFrame,
    params: UpliftParams | None = None,
    now: datetime | None = None,
) -> UpliftResult:
    """Learn from marts.uplift_training and score `current` (customer_360 rows) for each audience.

    Raises NotEnoughOutcomes (and produces nothing) below the floors of params.
    """
    params = params or UpliftParams()
    check_outcomes(training, params)
    # the learners' validation splits and the policies' tie-breaks are by row position: a
    # fixed order makes the run depend on the seed alone, not on how the table was read
    training = training.sort_values(["run_id", "customer_id"], kind="stable", ignore_index=True)
    with threadpool_limits(limits=params.threads):
        return _run(training, current, params, now)


def _run(
    training: pd.DataFrame, current: pd.DataFrame, params: UpliftParams, now: datetime | None
) -> UpliftResult:
    train_idx, test_idx = split(training, params)
    held = training.iloc[test_idx].copy()
    held[["uplift_purchase", "uplift_revenue"]] = predict_uplift(
        fit_uplift(training.iloc[train_idx], params), held
    )
    metrics, baseline = evaluate(held, params.seed)
    metrics.update(compare_policies(held, params.policy_share, params.seed))
    model = fit_uplift(training, params)
    window = {
        "runs": int(training["run_id"].nunique()),
        "first_send": str(training["send_date"].min()),
        "last_send": str(training["send_date"].max()),
        "members": len(training),
    }
    code = runs.code_version(*(importlib.import_module(m) for m in CODE_MODULES))
    version = runs.model_version(MODEL_NAME, asdict(params), window, code)
    scores = score_current(model, current, version)
    run = ModelRun(
        model=MODEL_NAME,
        model_version=version,
        trained_at=now or datetime.now(UTC),
        params=asdict(params),
        metrics={**metrics, "n_train": int(len(train_idx)), "n_scored": len(scores)},
        baseline_metrics=baseline,
        data_window=window,
    )
    return UpliftResult(scores=scores, run=run, holdout=held)


def score_current(model: Any, current: pd.DataFrame, version: str) -> pd.DataFrame:
    """ml.uplift_scores rows: every current customer for every audience the model knows."""
    frames = []
    for audience in model.audiences:
        rows = current.assign(audience=audience)
        pred = predict_uplift(model, rows)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": rows["customer_id"].astype(str).to_numpy(),
                    "audience": audience,
                    "uplift_purchase": pred["uplift_purchase"].to_numpy(),
                    "uplift_revenue": pred["uplift_revenue"].to_numpy(),
                    "model_version": version,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(SCORE_COLUMNS)]
