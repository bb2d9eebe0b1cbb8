"""The clustering space: chosen features, imputed, log-transformed, scaled, weighted, PCA."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from ml import features
from ml.segmentation.params import SegmentationParams


@dataclass
class Space:
    """The fitted preprocessing and the customer matrix in clustering space."""

    pre: ColumnTransformer
    spec: features.FeatureSpec
    names: list[str]
    prepared: np.ndarray  # imputed (+ log) but unscaled, one column per name
    scale: np.ndarray  # per-column scale used to go from prepared to scaled
    scaled: np.ndarray
    cluster_space: np.ndarray
    pca: PCA | None
    dropped: dict[str, dict[str, float | str]]
    map: SpaceMap


@dataclass
class SpaceMap:
    """The fitted map from prepared customer rows into the clustering space (no rows kept):
    what a stored segmentation champion uses to place customers it has never seen."""

    pre: ColumnTransformer
    spec: features.FeatureSpec
    fill: dict[str, float]  # never seen: as far back as the furthest value at fit time
    weights: np.ndarray
    pca: PCA | None
    keep: int

    def scaled(self, prepared: pd.DataFrame) -> np.ndarray:
        """Rows scaled and weighted (before PCA)."""
        prepared = prepared.copy()
        for col, value in self.fill.items():
            prepared[col] = prepared[col].fillna(value)
        return np.asarray(self.pre.transform(self.spec.frame(prepared)), dtype=float) * self.weights

    def cluster_space(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled rows on the kept principal components (or as they are without PCA)."""
        return scaled if self.pca is None else self.pca.transform(scaled)[:, : self.keep]


def sample_index(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted positions of a seeded sample of `size` of n rows (all rows when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def build_space(prepared: pd.DataFrame, params: SegmentationParams) -> Space:
    """Fit the preprocessing on the customers to cluster and map them into the space."""
    prepared = prepared.copy()
    # Never seen (no visit, no purchase) is as far back as the furthest observed value.
    fill: dict[str, float] = {}
    for col in ("recency_days", "days_since_last_visit"):
        if col in prepared and prepared[col].notna().any():
            fill[col] = float(prepared[col].max())
            prepared[col] = prepared[col].fillna(fill[col])
    spec = features.segmentation_feature_spec(prepared)
    if not spec.columns:
        raise ValueError("customer_360 has no usable segmentation features")
    # Near-duplicate behaviour columns are left out. The category mix is exempt: it is a
    # composition (shares sum to 1) whose total weight is set as a group below.
    dropped: dict[str, dict[str, float | str]] = {}
    core = [c for c in spec.numeric if not c.startswith(features.CATEGORY_SHARE_PREFIX)]
    if params.max_correlation < 1.0 and len(core) > 1:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("log", features.Log1pSkewed())]
        )
        values = numeric.fit_transform(spec.frame(prepared)[core])
        kept, dropped = features.drop_correlated(values, core, params.max_correlation)
        spec = features.FeatureSpec(
            numeric=tuple(c for c in spec.numeric if c in kept or c not in core),
            categorical=spec.categorical,
        )
    x = spec.frame(prepared)
    pre = features.segmentation_preprocessor(spec, params.min_frequency)
    scaled = np.asarray(pre.fit_transform(x), dtype=float)
    names: list[str] = []
    blocks: list[np.ndarray] = []
    scales: list[np.ndarray] = []
    num = pre.named_transformers_["num"]
    log_mask = num.named_steps["log"].log_mask_
    names += [f"log1p({c})" if m else c for c, m in zip(spec.numeric, log_mask, strict=True)]
    blocks.append(num[:-1].transform(x[list(spec.numeric)]))
    scales.append(num.named_steps["scale"].scale_)
    if spec.categorical:
        cat = pre.named_transformers_["cat"]
        cat_names = list(cat.get_feature_names_out(list(spec.categorical)))
        names += cat_names
        blocks.append(cat.transform(x[list(spec.categorical)]))
        scales.append(np.ones(len(cat_names)))
    prepared_matrix = np.hstack(blocks)
    weights = group_weights(names, spec, params)
    scaled = scaled * weights
    pca = None
    cluster_space = scaled
    if params.pca is not None and scaled.shape[1] > 2:
        pca = PCA(random_state=params.seed).fit(scaled)
        if params.pca == "kaiser":
            var = pca.explained_variance_
            keep = max(2, int((var > var.mean()).sum()))
        else:
            share = np.cumsum(pca.explained_variance_ratio_)
            keep = max(2, int(np.searchsorted(share, float(params.pca)) + 1))
        cluster_space = pca.transform(scaled)[:, :keep]
    scale = np.hstack(scales) / weights
    mapping = SpaceMap(pre, spec, fill, weights, pca, cluster_space.shape[1])
    return Space(
        pre, spec, names, prepared_matrix, scale, scaled, cluster_space, pca, dropped, mapping
    )


def group_weights(
    names: list[str], spec: features.FeatureSpec, params: SegmentationParams
) -> np.ndarray:
    """Column weights so a multi-column concept counts as `weight` features in total.

    The category mix (all cat_share_* columns) counts as params.category_mix_weight
    features and each one-hot encoded column group as params.categorical_weight, however
    many categories the data has; every other numeric column counts as one.
    """
    weights = np.ones(len(names))
    share = [i for i, n in enumerate(names) if features.CATEGORY_SHARE_PREFIX in n]
    if share:
        weights[share] = np.sqrt(params.category_mix_weight / len(share))
    for col in spec.categorical:
        idx = [i for i, n in enumerate(names) if n.startswith(f"{col}_")]
        if idx:
            weights[idx] = np.sqrt(params.categorical_weight / len(idx))
    return weights
