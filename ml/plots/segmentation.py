"""Segmentation figures: segment sizes, the profile heat map, a 2-D projection.

Each title states what the figure shows (largest segment, strongest trait, separation
against the RFM-grid baseline); the subtitle names the customers and the as-of date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ml.plots.style import count, headline
from ml.plots.words import feature_words
from ml.segmentation import PROSPECT_ID, SegmentationResult


def figures(result: SegmentationResult) -> dict[str, Figure]:
    """The run's figures by file name."""
    names = result.names
    z = result.profile_z.copy()
    prospects = [f"{s_}: {names[s_]}" for s_ in z.index if s_ == PROSPECT_ID]
    z.index = [f"{s_}: {names[s_]}" for s_ in z.index]
    points = result.projection[["pc1", "pc2"]].to_numpy()
    metrics, window = result.metrics, result.run.data_window
    subtitle = data_window(window.get("as_of"), int(window.get("n_customers", 0)), metrics)
    separation = (
        metrics.get("silhouette"),
        result.run.baseline_metrics.get("rfm_grid_silhouette"),
    )
    return {
        "segment_sizes": segment_sizes(result.profiles, subtitle),
        "segment_heatmap": segment_heatmap(z, subtitle, not_in_title=prospects),
        "segment_projection": projection(
            points, result.projection["segment_id"].to_numpy(), names, subtitle, separation
        ),
    }


def data_window(as_of: str | None, n_customers: int, metrics: Mapping) -> str:
    """Subtitle: which customers, as of when, how many were clustered into how many segments."""
    when = f" as of {as_of}" if as_of else ""
    text = f"{count(n_customers)} customers{when}"
    if "n_clustered" not in metrics or "k" not in metrics:
        return text
    if metrics["n_clustered"] >= n_customers:
        return f"{text}, clustered into {metrics['k']} segments"
    return (
        f"{text}; {count(metrics['n_clustered'])} with a purchase clustered into "
        f"{metrics['k']} segments, the others are prospects"
    )


def segment_sizes(profiles: pd.DataFrame, subtitle: str = "") -> Figure:
    """Horizontal bar chart of customers per segment, titled with the largest segment."""
    fig = Figure(figsize=(7, 0.5 * len(profiles) + 2), layout="constrained")
    ax = fig.subplots()
    ordered = profiles.sort_values("size")
    labels = [
        f"{sid}: {name}" for sid, name in zip(ordered["segment_id"], ordered["name"], strict=True)
    ]
    ax.barh(labels, ordered["size"], color="#4C72B0")
    for y, (size, share) in enumerate(zip(ordered["size"], ordered["share"], strict=True)):
        ax.text(size, y, f" {share:.0%}", va="center", fontsize=8)
    ax.set_xlabel("customers in the segment")
    ax.set_ylabel("segment")
    top = ordered.iloc[-1]
    headline(
        fig,
        f"Largest segment: {top['name']}, {top['share']:.0%} of customers "
        f"({count(top['size'])} of {count(profiles['size'].sum())})",
        subtitle,
    )
    return fig


def _strongest(z_scores: pd.DataFrame, not_in_title: Sequence[str] = ()) -> str:
    """The takeaway of the heat map: the cell furthest from the average customer (rows in
    `not_in_title` aside: that prospects spend nothing is no news)."""
    rest = z_scores.drop(index=list(not_in_title), errors="ignore")
    z_scores = rest if len(rest) else z_scores
    values = z_scores.to_numpy(dtype=float)
    if not values.size or np.isnan(values).all():
        return "Segment profiles"
    row, col = np.unravel_index(np.nanargmax(np.abs(values)), values.shape)
    z = values[row, col]
    segment = str(z_scores.index[row]).split(": ", 1)[-1]
    side = "above" if z > 0 else "below"
    return (
        f"Strongest trait: {segment}, {feature_words(str(z_scores.columns[col]))} "
        f"{abs(z):.1f} standard deviations {side} the average customer"
    )


def segment_heatmap(
    z_scores: pd.DataFrame, subtitle: str = "", not_in_title: Sequence[str] = ()
) -> Figure:
    """Heat map of segment feature means as z-scores against the whole population.

    Columns are feature names (customer_360's, as ml.segmentation profiles them); the ticks
    show them in words (ml.plots.words). The title names the strongest trait of a segment
    not in `not_in_title` (row labels).
    """
    fig = Figure(
        figsize=(max(7, 0.5 * z_scores.shape[1] + 3.5), 0.55 * z_scores.shape[0] + 3.5),
        layout="constrained",
    )
    ax = fig.subplots()
    values = z_scores.to_numpy(dtype=float)
    limit = max(1.0, float(np.nanmax(np.abs(values)))) if values.size else 1.0
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    words = [feature_words(str(c)) for c in z_scores.columns]
    ax.set_xticks(range(z_scores.shape[1]), words, rotation=50, ha="right", fontsize=8)
    ax.set_yticks(range(z_scores.shape[0]), z_scores.index, fontsize=8)
    for (r, c), v in np.ndenumerate(values):
        if not math.isnan(v):
            colour = "white" if abs(v) > 0.6 * limit else "black"
            ax.text(c, r, f"{v:+.1f}", ha="center", va="center", fontsize=6, color=colour)
    ax.set_xlabel("customer feature (log scale where skewed)")
    ax.set_ylabel("segment")
    fig.colorbar(image, ax=ax, label="segment average vs all customers (standard deviations)")
    headline(fig, _strongest(z_scores, not_in_title), subtitle)
    return fig


def _separation_title(k: int, separation: tuple[float | None, float | None] | None) -> str:
    model, baseline = separation or (None, None)
    if not _finite(model):
        return f"{k} segments on the two main axes of customer behaviour"
    if not _finite(baseline):
        return f"{k} segments, separation (silhouette) {model:.2f}"
    verdict = "better" if model > baseline else "less well"
    return (
        f"{k} segments, {verdict} separated than a recency x spend grid: "
        f"silhouette {model:.2f} vs {baseline:.2f}"
    )


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def projection(
    points: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str],
    subtitle: str = "",
    separation: tuple[float | None, float | None] | None = None,
) -> Figure:
    """2-D scatter of a customer sample (first two principal components) coloured by segment.

    `separation` is (the segmentation's silhouette, the RFM-grid baseline's) for the title.
    """
    fig = Figure(figsize=(7, 6.5), layout="constrained")
    ax = fig.subplots()
    segments = sorted(np.unique(labels))
    for sid in segments:
        sel = labels == sid
        ax.scatter(points[sel, 0], points[sel, 1], s=4, alpha=0.5, label=f"{sid}: {names[sid]}")
    ax.set_xlabel("main axis of customer behaviour (1st principal component)")
    ax.set_ylabel("second axis (2nd principal component)")
    ax.legend(fontsize=7, markerscale=3, loc="best")
    sample = f"a sample of {count(len(points))} clustered customers"
    headline(
        fig,
        _separation_title(len(segments), separation),
        f"{subtitle}; {sample}" if subtitle else sample.capitalize(),
    )
    return fig
