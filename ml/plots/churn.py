"""Churn figures: ROC, calibration and lift of the model against its baselines (held out).

Titles compare the model with its best baseline on the held-out window (churners found in
the top decile, AUC) or state how close its probabilities are to what happened; the
subtitle names the window: cutoff, horizon, customers and their churn rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from ml.churn import ChurnResult
from ml.evaluation import calibration_table, lift_curve
from ml.plots.style import REFERENCE_LINE, count, headline

MODEL = "model"
# Legend names of the scores ChurnResult.holdout_scores returns.
SCORE_WORDS = {
    MODEL: "churn model",
    "recency": "recency baseline",
    "rfm_logistic": "RFM baseline",
}


def _words(name: str) -> str:
    return SCORE_WORDS.get(name, f"{name.replace('_', ' ')} baseline")


def figures(result: ChurnResult) -> dict[str, Figure]:
    """The run's figures by file name (none without a held-out window)."""
    scores = result.holdout_scores()
    if not scores:
        return {}
    y = result.holdout["churned"].to_numpy()
    window = result.run.data_window
    subtitle = data_window(window.get("eval_cutoff"), window.get("horizon_days"), y)
    return {
        "churn_roc": roc_with_baselines(y, scores, subtitle),
        "churn_calibration": calibration(y, scores, subtitle),
        "churn_lift": lift(y, scores, subtitle),
    }


def data_window(cutoff: str | None, horizon_days: int | None, y_true: np.ndarray) -> str:
    """Subtitle: the held-out customers, their cutoff, the horizon and the churn rate."""
    when = f" as of {cutoff}" if cutoff else ""
    horizon = f" (no order in the next {horizon_days} days)" if horizon_days else ""
    rate = float(np.mean(y_true)) if len(y_true) else float("nan")
    return (
        f"Held out: {count(len(y_true))} customers{when}; "
        f"{rate:.0%} churned{horizon}; none of them used in training"
    )


def _best_baseline(values: Mapping[str, float]) -> tuple[str, float] | None:
    """The baseline with the highest value (None without a finite one)."""
    finite = {k: v for k, v in values.items() if k != MODEL and math.isfinite(v)}
    if not finite:
        return None
    name = max(sorted(finite), key=lambda k: finite[k])
    return name, finite[name]


def top_decile_churners(y_true: np.ndarray, score: np.ndarray) -> int:
    """Churners among the highest-scored tenth of customers (decile 1 of lift_curve)."""
    first = lift_curve(y_true, score).iloc[0]
    return int(round(first["positive_rate"] * first["n"]))


def lift_title(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> str:
    """'Churn model finds 2.3x more churners than the best baseline in the top decile'."""
    found = {name: float(top_decile_churners(y_true, s)) for name, s in scores.items()}
    model, best = found[MODEL], _best_baseline(found)
    if best is None:
        return f"Churn model finds {count(model)} churners in its top decile"
    name, base = best
    versus = f"({count(model)} vs {count(base)} for the {_words(name)})"
    if base == 0:
        return f"Churn model finds {count(model)} churners in the top decile, the baselines none"
    ratio = model / base
    if ratio >= 1.05:
        claim = f"{ratio:.1f}x more churners than"
    elif ratio > 0.95:
        claim = "as many churners as"
    else:
        claim = "fewer churners than"
    return f"Churn model finds {claim} the best baseline in the top decile {versus}"


def roc_title(aucs: Mapping[str, float]) -> str:
    """The model's AUC against the best baseline's."""
    model, best = aucs[MODEL], _best_baseline(aucs)
    if best is None or not math.isfinite(model):
        return f"Churn model ranks churners with AUC {model:.2f}"
    name, base = best
    verdict = "better" if model > base else "no better"
    return (
        f"Churn model ranks churners {verdict} than the best baseline: "
        f"AUC {model:.2f} vs {base:.2f} ({_words(name)})"
    )


def calibration_title(y_true: np.ndarray, score: np.ndarray) -> str:
    """How far predicted probabilities are from the observed churn rate, customer-weighted."""
    table = calibration_table(y_true, score)
    gap = float(
        np.average((table["mean_predicted"] - table["observed_rate"]).abs(), weights=table["n"])
    )
    return (
        f"Predicted churn risk is within {gap * 100:.0f} percentage points "
        "of the observed churn rate on average"
    )


def roc_with_baselines(
    y_true: np.ndarray, scores: Mapping[str, np.ndarray], subtitle: str = ""
) -> Figure:
    """ROC curves of the model and its baselines on the held-out window."""
    fig = Figure(figsize=(6.5, 7), layout="constrained")
    ax = fig.subplots()
    aucs: dict[str, float] = {}
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        aucs[name] = float(roc_auc_score(y_true, score))
        ax.plot(fpr, tpr, label=f"{_words(name)} (AUC {aucs[name]:.3f})")
    ax.plot([0, 1], [0, 1], **REFERENCE_LINE, label="random order (AUC 0.5)")
    ax.set_xlabel("share of staying customers flagged (false positive rate)")
    ax.set_ylabel("share of churners caught (true positive rate)")
    ax.legend(loc="lower right", fontsize=8)
    headline(fig, roc_title(aucs), subtitle)
    return fig


def calibration(y_true: np.ndarray, scores: Mapping[str, np.ndarray], subtitle: str = "") -> Figure:
    """Reliability diagram: mean predicted probability vs observed churn rate."""
    fig = Figure(figsize=(6.5, 7), layout="constrained")
    ax = fig.subplots()
    for name, score in scores.items():
        table = calibration_table(y_true, score)
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=_words(name))
    ax.plot([0, 1], [0, 1], **REFERENCE_LINE, label="predicted = observed")
    ax.set_xlabel("predicted churn probability (average of a tenth of customers)")
    ax.set_ylabel("share of them who churned")
    ax.legend(loc="upper left", fontsize=8)
    headline(fig, calibration_title(y_true, scores[MODEL]), subtitle)
    return fig


def lift(y_true: np.ndarray, scores: Mapping[str, np.ndarray], subtitle: str = "") -> Figure:
    """Lift per score decile for the model and its baselines."""
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(scores))
    for i, (name, score) in enumerate(scores.items()):
        table = lift_curve(y_true, score)
        offset = (i - (len(scores) - 1) / 2) * width
        ax.bar(table["decile"] + offset, table["lift"], width, label=_words(name))
    ax.axhline(1.0, **REFERENCE_LINE, label="average churn rate")
    ax.set_xticks(range(1, 11))
    ax.set_xlabel("customers ranked by predicted risk, in tenths (1 = highest risk)")
    ax.set_ylabel("churn rate vs the average customer (lift)")
    ax.legend(fontsize=8)
    headline(fig, lift_title(y_true, scores), subtitle)
    return fig
