"""Held-out evaluation: the model and both baselines on the latest labelled window.

The model and the baselines train only on cutoffs whose label window ends by the evaluation
cutoff, so nothing they learn from reaches into the window they are scored on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ml import evaluation, features
from ml.churn.baselines import BASELINES, fit_baseline, predict_baseline
from ml.churn.model import ChurnModel, fit_churn_model
from ml.churn.params import ChurnParams


@dataclass
class Holdout:
    """Metrics of the model and the baselines, and the held-out rows with every probability."""

    metrics: dict[str, Any] = field(default_factory=dict)
    baseline_metrics: dict[str, Any] = field(default_factory=dict)
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The model fitted on the training cutoffs only: a later run scores it on its own
    # held-out window to compare this recipe with its challenger (ml.registry).
    model: ChurnModel | None = None


def evaluate_holdout(
    eligible: pd.DataFrame,
    train_cutoffs: list,
    eval_cutoff: pd.Timestamp | None,
    params: ChurnParams,
) -> Holdout:
    """Fit on the training cutoffs, score the evaluation cutoff (empty without two classes)."""
    if eval_cutoff is None:
        return Holdout()
    train = eligible[eligible["cutoff_date"].isin(train_cutoffs)].reset_index(drop=True)
    test = holdout_rows(eligible, eval_cutoff)
    if train["churned"].nunique() != 2 or test["churned"].nunique() != 2:
        return Holdout()
    model = fit_churn_model(train, params)
    y = test["churned"].to_numpy()
    scored = {"model": model.predict(test)}
    for name, cols in BASELINES.items():
        base = fit_baseline(train, cols)
        if base is not None:
            scored[name] = predict_baseline(base, test)
    metrics = evaluation.classification_metrics(y, scored["model"])
    metrics["holdout_model"] = model.info
    baseline_metrics = {
        name: evaluation.classification_metrics(y, scored[name])
        for name in BASELINES
        if name in scored
    }
    cols = ["customer_id", "cutoff_date", "churned"]
    cols += features.frame_columns(test, params.fairness_attributes)
    frame = test[cols].copy()
    frame["churn_probability"] = scored["model"]
    for name in BASELINES:
        if name in scored:
            frame[f"{name}_probability"] = scored[name]
    return Holdout(metrics, baseline_metrics, frame, model)


def holdout_rows(eligible: pd.DataFrame, eval_cutoff: pd.Timestamp | None) -> pd.DataFrame:
    """The labelled rows of the evaluation cutoff (empty without one)."""
    if eval_cutoff is None:
        return eligible.iloc[:0]
    return eligible[eligible["cutoff_date"] == eval_cutoff].reset_index(drop=True)
