"""Segmentation figures: segment sizes, the profile heat map, a 2-D projection."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ml.segmentation import SegmentationResult


def figures(result: SegmentationResult) -> dict[str, Figure]:
    """The run's figures by file name."""
    names = result.names
    z = result.profile_z.copy()
    z.index = [f"{s_}: {names[s_]}" for s_ in z.index]
    points = result.projection[["pc1", "pc2"]].to_numpy()
    return {
        "segment_sizes": segment_sizes(result.profiles),
        "segment_heatmap": segment_heatmap(z),
        "segment_projection": projection(points, result.projection["segment_id"].to_numpy(), names),
    }


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
