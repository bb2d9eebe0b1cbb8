"""Stable segment ids: clusters take the ids of the previous run's nearest centroids."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ml.segmentation.params import PreviousSegmentation


def match_ids(
    new_centroids: dict[int, dict[str, float]],
    sizes: dict[int, int],
    scale: dict[str, float],
    previous: PreviousSegmentation | None,
    threshold: float,
) -> tuple[dict[int, int], dict[int, float]]:
    """Map cluster labels to segment ids: reuse previous ids of matching centroids."""
    labels = sorted(new_centroids, key=lambda c: (-sizes[c], c))
    if not previous or not previous.centroids:
        return {c: i + 1 for i, c in enumerate(labels)}, {}
    prev_ids = sorted(previous.centroids)
    cost = np.full((len(labels), len(prev_ids)), np.inf)
    for i, c in enumerate(labels):
        for j, pid in enumerate(prev_ids):
            common = [n for n in new_centroids[c] if n in previous.centroids[pid] and n in scale]
            if not common:
                continue
            diff = np.array(
                [(new_centroids[c][n] - previous.centroids[pid][n]) / scale[n] for n in common]
            )
            cost[i, j] = float(np.sqrt(np.mean(diff**2)))
    finite = np.where(np.isfinite(cost), cost, 1e6)
    rows, cols = linear_sum_assignment(finite)
    mapping: dict[int, int] = {}
    distances: dict[int, float] = {}
    for r, c in zip(rows, cols, strict=True):
        if cost[r, c] <= threshold:
            mapping[labels[r]] = prev_ids[c]
            distances[prev_ids[c]] = float(cost[r, c])
    next_id = max(prev_ids) + 1
    for c in labels:
        if c not in mapping:
            mapping[c] = next_id
            next_id += 1
    return mapping, distances
