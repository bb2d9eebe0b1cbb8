"""Matplotlib figures for the model assets (object API only: no pyplot global state)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from ml.evaluation import calibration_table, lift_curve


def segment_sizes(profiles: pd.DataFrame) -> Figure:
    """Horizontal bar chart of customers per segment."""
    fig = Figure(figsize=(7, 0.5 * len(profiles) + 1.5))
    ax = fig.subplots()
    ordered = profiles.sort_values("size")
    labels = [
        f"{sid}: {name}" for sid, name in zip(ordered["segment_id"], ordered["name"], strict=True)
    ]
    ax.barh(labels, ordered["size"], color="#4C72B0")
    for y, (size, share) in enumerate(zip(ordered["size"], ordered["share"], strict=True)):
        ax.text(size, y, f" {share:.0%}", va="center", fontsize=8)
    ax.set_xlabel("customers")
    ax.set_title("Segment sizes")
    fig.tight_layout()
    return fig


def segment_heatmap(z_scores: pd.DataFrame) -> Figure:
    """Heat map of segment feature means as z-scores against the whole population."""
    fig = Figure(figsize=(max(6, 0.45 * z_scores.shape[1] + 3), 0.5 * z_scores.shape[0] + 2))
    ax = fig.subplots()
    values = z_scores.to_numpy(dtype=float)
    limit = max(1.0, float(np.nanmax(np.abs(values)))) if values.size else 1.0
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(z_scores.shape[1]), z_scores.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(z_scores.shape[0]), z_scores.index, fontsize=8)
    fig.colorbar(image, ax=ax, label="z-score vs all customers")
    ax.set_title("Segment profiles")
    fig.tight_layout()
    return fig


def projection(points: np.ndarray, labels: np.ndarray, names: Mapping[int, str]) -> Figure:
    """2-D scatter of a customer sample (first two principal components) coloured by segment."""
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    for sid in sorted(np.unique(labels)):
        sel = labels == sid
        ax.scatter(points[sel, 0], points[sel, 1], s=4, alpha=0.5, label=f"{sid}: {names[sid]}")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.legend(fontsize=7, markerscale=3, loc="best")
    ax.set_title("Segments (2-D projection)")
    fig.tight_layout()
    return fig


def roc_with_baselines(y_true: np.ndarray, scores: Mapping[str, np.ndarray]) -> Figure:
    """ROC curves of the model and its baselines on the held-out window."""
    from sklearn.metrics import roc_auc_score

    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y_true, score):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
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
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
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
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_xlabel("score decile (1 = highest risk)")
    ax.set_ylabel("lift")
    ax.set_title("Churn lift by decile, held-out window")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
