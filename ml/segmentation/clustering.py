"""Fitting clusters: KMeans (silhouette) or GMM (BIC) over a k range, bootstrap stability,
and the RFM-grid baseline scored in the same space."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture

from ml import features
from ml.segmentation.params import SegmentationParams
from ml.segmentation.space import sample_index


def make_model(k: int, params: SegmentationParams, seed: int) -> KMeans | GaussianMixture:
    """An unfitted KMeans or Gaussian mixture with k clusters."""
    if params.method == "gmm":
        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=2, random_state=seed, reg_covar=1e-4
        )
    return KMeans(n_clusters=k, n_init=params.n_init, random_state=seed)


def silhouette(x: np.ndarray, labels: np.ndarray, params: SegmentationParams) -> float:
    """Silhouette on a seeded sample (NaN with fewer than two clusters)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    idx = sample_index(len(x), params.silhouette_sample, params.seed + 7)
    if len(np.unique(labels[idx])) < 2:
        return float("nan")
    return float(silhouette_score(x[idx], labels[idx]))


def bootstrap_ari(x: np.ndarray, model: Any, params: SegmentationParams) -> list[float]:
    """ARI between the model's labels and models refit on bootstrap resamples."""
    idx = sample_index(len(x), params.bootstrap_sample, params.seed + 11)
    sub = x[idx]
    reference = model.predict(sub)
    rng = np.random.default_rng(params.seed + 13)
    scores = []
    for b in range(params.bootstrap_rounds):
        boot = sub[rng.integers(0, len(sub), size=len(sub))]
        refit = clone(model).set_params(random_state=params.seed + 100 + b)
        refit.fit(boot)
        scores.append(float(adjusted_rand_score(reference, refit.predict(sub))))
    return scores


def choose_k(x_fit: np.ndarray, params: SegmentationParams) -> tuple[Any, dict[str, Any]]:
    """The best k by silhouette (KMeans) or BIC (GMM) among those stable under bootstrap."""
    n = len(x_fit)
    k_max = min(params.k_max, n - 1)
    k_min = min(params.k_min, k_max)
    if k_min < 2:
        raise ValueError(f"need at least 3 customers to segment, got {n}")
    search: list[dict[str, Any]] = []
    models: dict[int, Any] = {}
    for k in range(k_min, k_max + 1):
        model = make_model(k, params, params.seed).fit(x_fit)
        labels = model.predict(x_fit)
        entry: dict[str, Any] = {"k": k, "silhouette": silhouette(x_fit, labels, params)}
        if params.method == "gmm":
            entry["bic"] = float(model.bic(x_fit))
        else:
            entry["inertia"] = float(model.inertia_)
        search.append(entry)
        models[k] = model

    def rank(e: dict[str, Any]) -> tuple[float, int]:
        if params.method == "gmm":
            return (e["bic"], e["k"])
        sil = e["silhouette"]
        return (-(sil if sil == sil else -1.0), e["k"])

    ordered = sorted(search, key=rank)
    tried: list[dict[str, Any]] = []
    for entry in ordered[: max(1, params.stability_candidates)]:
        aris = bootstrap_ari(x_fit, models[entry["k"]], params)
        entry["bootstrap_ari_mean"] = float(np.mean(aris)) if aris else float("nan")
        entry["bootstrap_ari_min"] = float(np.min(aris)) if aris else float("nan")
        tried.append(entry)
        if not aris or entry["bootstrap_ari_mean"] >= params.min_stability:
            break
    passing = [e for e in tried if e["bootstrap_ari_mean"] >= params.min_stability]
    chosen = passing[0] if passing else max(tried, key=lambda e: e["bootstrap_ari_mean"])
    info = {
        "k": chosen["k"],
        "criterion": "bic" if params.method == "gmm" else "silhouette",
        "search": search,
    }
    return models[chosen["k"]], info


def centres(model: Any) -> np.ndarray:
    """Cluster centres of a fitted KMeans or Gaussian mixture."""
    return model.means_ if isinstance(model, GaussianMixture) else model.cluster_centers_


def rfm_grid_labels(prepared: pd.DataFrame) -> np.ndarray | None:
    """Baseline: recency tercile x monetary tercile (purchasers), prospects as one group."""
    if not {"recency_days", "monetary"} <= set(features.non_null_columns(prepared, prepared)):
        return None
    buyer = features.is_purchaser(prepared).to_numpy()
    labels = np.zeros(len(prepared), dtype=int)
    if buyer.sum() < 9:
        return None
    rec = prepared.loc[buyer, "recency_days"].rank(method="first", pct=True)
    mon = prepared.loc[buyer, "monetary"].rank(method="first", pct=True)
    labels[buyer] = (
        1 + np.minimum((rec * 3).astype(int), 2) * 3 + np.minimum((mon * 3).astype(int), 2)
    )
    return labels
