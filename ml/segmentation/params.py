"""Segmentation parameters, the previous run's state, and the ids every module shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

MODEL_NAME = "segmentation"
# Customers without a purchase form one rule-based segment (when params.prospect_segment).
PROSPECT_ID = 0
PROSPECT_NAME = "Prospects (no purchase yet)"


@dataclass(frozen=True)
class SegmentationParams:
    """Hyper-parameters of a segmentation run."""

    k_min: int = 3
    k_max: int = 10
    method: Literal["kmeans", "gmm"] = "kmeans"
    seed: int = 42
    n_init: int = 10
    fit_sample: int = 50_000
    silhouette_sample: int = 8_000
    bootstrap_rounds: int = 8
    bootstrap_sample: int = 8_000
    min_stability: float = 0.8
    stability_candidates: int = 3
    pca: Literal["kaiser"] | float | None = "kaiser"
    prospect_segment: bool = True
    # Numeric inputs correlated at |r| >= this with an earlier-listed one are left out
    # (near-duplicates weigh one aspect twice); 1.0 keeps everything.
    max_correlation: float = 0.8
    category_mix_weight: float = 2.0
    categorical_weight: float = 1.0
    match_threshold: float = 1.0
    min_frequency: float = 0.01
    projection_sample: int = 4_000
    threads: int | None = 1


@dataclass(frozen=True)
class PreviousSegmentation:
    """Centroids of the previous run (prepared, unscaled feature space) keyed by segment id."""

    centroids: dict[int, dict[str, float]]
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_profiles(cls, profiles: pd.DataFrame) -> PreviousSegmentation:
        """Rebuild from a previous run's ml.segment_profiles rows (uses the centroid column)."""
        centroids: dict[int, dict[str, float]] = {}
        names: dict[int, str] = {}
        for row in profiles.itertuples(index=False):
            raw = json.loads(row.centroid) if isinstance(row.centroid, str) else dict(row.centroid)
            names[int(row.segment_id)] = str(row.name)
            if raw:  # the rule-based prospects segment has no centroid
                centroids[int(row.segment_id)] = raw
        return cls(centroids=centroids, names=names)
