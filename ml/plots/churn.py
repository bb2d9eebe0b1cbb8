"""Churn figures: ROC, calibration and lift of the model against its baselines (held out)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from ml.churn import ChurnResult
from ml.evaluation import calibration_table, lift_curve
from ml.plots.style import REFERENCE_LINE


def figures(result: ChurnResult) -> dict[str, Figure]:
    """The run's figures by file name (none without a held-out window)."""
    scores = result.holdout_scores()
    if not scores:
        return {}
    y = result.holdout["churned"].to_numpy()
    return {
        "churn_roc": roc_with_baselines(y, scores),
        "churn_calibration": calibration(y, scores),
        "churn_lift": lift(y, scores),
    }


def roc_with_baselines(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """ROC curves of the model and its baselines on the held-out window."""
    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y_true, score):.3f})")
    ax.plot([0, 1], [0, 1], **REFERENCE_LINE)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Churn ROC, held-out window")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def calibration(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """Reliability diagram: mean predicted probability vs observed churn rate."""
    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    for name, score in scores.items():
        table = calibration_table(y_true, score)
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name)
    ax.plot([0, 1], [0, 1], **REFERENCE_LINE)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration, held-out window")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def lift(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """Lift per score decile for the model and its baselines."""
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    width = 0.8 / max(1, len(scores))
    for i, (name, score) in enumerate(scores.items()):
        table = lift_curve(y_true, score)
        ax.bar(
            table["decile"] + (i - (len(scores) - 1) / 2) * width, table["lift"], width, label=name
        )
    ax.axhline(1.0, **REFERENCE_LINE)
    ax.set_xlabel("score decile (1 = highest risk)")
    ax.set_ylabel("lift")
    ax.set_title("Churn lift by decile, held-out window")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
