"""A segmentation run: cluster the purchasers, keep ids stable, name and profile segments."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from ml import evaluation, features, runs
from ml import registry as registry_
from ml.runs import ModelRun
from ml.segmentation.clustering import (
    bootstrap_ari,
    centres,
    choose_k,
    rfm_grid_labels,
    silhouette,
)
from ml.segmentation.ids import match_ids
from ml.segmentation.params import (
    MODEL_NAME,
    PROSPECT_ID,
    PreviousSegmentation,
    SegmentationParams,
)
from ml.segmentation.profiles import build_profiles
from ml.segmentation.space import Space, SpaceMap, build_space, sample_index

# The code a segmentation model_version hashes.
CODE_MODULES = (
    *(f"ml.segmentation.{name}" for name in ("params", "space", "clustering", "ids")),
    *(f"ml.segmentation.{name}" for name in ("naming", "profiles", "run")),
    "ml.features",
)


@dataclass
class SegmentationResult:
    """Everything a segmentation run produces, ready to write back (figures: ml.plots)."""

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    run: ModelRun
    state: PreviousSegmentation
    # Mean z-score of each profile feature per segment (index: segment_id).
    profile_z: pd.DataFrame
    # A sample of clustered customers on the first two principal components of the
    # clustering space: pc1, pc2, segment_id.
    projection: pd.DataFrame

    @property
    def metrics(self) -> dict[str, Any]:
        """Quality and bookkeeping of the run (k, silhouette, stability, ids reused)."""
        return dict(self.run.metrics)

    @property
    def names(self) -> dict[int, str]:
        """Segment id -> name."""
        return dict(zip(self.profiles["segment_id"], self.profiles["name"], strict=True))


@dataclass
class _Clusters:
    """The fitted clustering of the purchasers and their labels."""

    space: Space
    model: Any
    search: dict[str, Any]
    fit_idx: np.ndarray
    labels: np.ndarray  # raw cluster label per clustered customer

    @property
    def x(self) -> np.ndarray:
        return self.space.cluster_space


def segment(
    customer_360: pd.DataFrame,
    params: SegmentationParams | None = None,
    previous: PreviousSegmentation | None = None,
    run_at: datetime | None = None,
    registry: tuple[registry_.ModelStore, registry_.Policy] | None = None,
    log: Callable[[str], None] = print,
) -> SegmentationResult:
    """Segment every customer of customer_360; match ids to `previous`; name and profile.

    With a `registry` (store, policy) customers are placed by the stored champion's fitted
    space and clusters unless a retrain is due (ml.registry.select); without one it fits.
    """
    params = params or SegmentationParams()
    with threadpool_limits(limits=params.threads):
        run_at = run_at or datetime.now(UTC)
        frame = customer_360.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
        prepared = features.prepare(frame)
        if params.prospect_segment:
            clustered = features.is_purchaser(prepared).to_numpy()
        else:
            clustered = np.ones(len(frame), dtype=bool)
        if clustered.sum() <= params.k_min:
            raise ValueError(
                f"need more than k_min={params.k_min} purchasers to segment, got {clustered.sum()}"
            )
        family = _family(frame, prepared[clustered].reset_index(drop=True), params, previous)
        selection = registry_.choose(family, registry, log)
        return _score(selection, frame, prepared, clustered, params, run_at)


@dataclass
class SegmentationFit:
    """What a segmentation champion stores: the fitted space and clusters, the segment id of
    each cluster label, the centroids by id, and the fit-time metrics (k, stability)."""

    space: SpaceMap
    model: Any
    mapping: dict[int, int]
    centroids: dict[int, dict[str, float]]
    matched: set[int]
    metrics: dict[str, Any]
    window: dict[str, Any]
    reference: dict[str, Any]  # drift profile of the purchasers it was fitted on

    def drift_frame(self, purchasers: pd.DataFrame) -> pd.DataFrame:
        """The clustering inputs of prepared purchasers (what `reference` profiles)."""
        return self.space.spec.frame(purchasers)

    def labels(self, purchasers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cluster label, scaled rows, clustering-space rows) of prepared purchasers."""
        scaled = self.space.scaled(purchasers)
        x = self.space.cluster_space(scaled)
        return self.model.predict(x), scaled, x


def _family(
    frame: pd.DataFrame,
    purchasers: pd.DataFrame,
    params: SegmentationParams,
    previous: PreviousSegmentation | None,
) -> registry_.Family:
    """Segmentation as ml.registry sees it: fit, the champion's silhouette, input drift."""
    code = runs.code_version(*map(importlib.import_module, CODE_MODULES))
    as_of = _as_of(frame)

    def fit() -> registry_.Fitted:
        return _fit(purchasers, params, previous, {"as_of": as_of}, code)

    def evaluate(champion: SegmentationFit, challenger: registry_.Fitted) -> float | None:
        # both label sets measured in the challenger's space, on the same customers
        return silhouette(challenger.context, champion.labels(purchasers)[0], params)

    return registry_.Family(
        model=MODEL_NAME,
        metric="silhouette",
        fit=fit,
        evaluate=evaluate,
        code=code,
        as_of=as_of,
        inputs=purchasers,
    )


def _fit(
    purchasers: pd.DataFrame,
    params: SegmentationParams,
    previous: PreviousSegmentation | None,
    window: dict[str, Any],
    code: str,
) -> registry_.Fitted:
    """Cluster the purchasers, match ids to the previous run, measure k and stability."""
    fit = _cluster(purchasers, params)
    centroids, mapping, match_cost = _stable_ids(fit, previous, params)
    aris = bootstrap_ari(fit.x[fit.fit_idx], fit.model, params)
    k = int(fit.search["k"])
    metrics = {
        "k": k,
        "method": params.method,
        "bootstrap_ari_mean": float(np.mean(aris)) if aris else float("nan"),
        "bootstrap_ari_min": float(np.min(aris)) if aris else float("nan"),
        "criterion": fit.search["criterion"],
        "search": fit.search["search"],
        "cluster_dimensions": int(fit.x.shape[1]),
        "ids_reused": len(match_cost),
        "ids_new": k - len(match_cost),
        "match_cost": {str(s_): round(c, 4) for s_, c in sorted(match_cost.items())},
        "features": fit.space.names,
        "dropped_correlated": fit.space.dropped,
    }
    spec = fit.space.spec
    reference = evaluation.drift_profile(spec.frame(purchasers), list(spec.columns))
    params_dict = asdict(params)
    window = {**window, "n_clustered": len(purchasers)}
    version = runs.model_version(MODEL_NAME, params_dict, window, code)
    payload = SegmentationFit(
        fit.space.map, fit.model, mapping, centroids, set(match_cost), metrics, window, reference
    )
    metric = silhouette(fit.x, fit.labels, params)
    meta = {"as_of": window["as_of"], "window": window, "params": params_dict}
    meta |= {"code_version": code, "metrics": {**metrics, "silhouette": metric}}
    return registry_.Fitted(payload, version, metric, meta, fit.x)


def _score(
    selection: registry_.Selection,
    frame: pd.DataFrame,
    prepared: pd.DataFrame,
    clustered: np.ndarray,
    params: SegmentationParams,
    run_at: datetime,
) -> SegmentationResult:
    """Place every customer with the selected model, profile and name the segments."""
    fit: SegmentationFit = selection.payload
    version, n = selection.version, len(frame)
    labels, scaled, x = fit.labels(prepared[clustered].reset_index(drop=True))
    segment_ids = np.full(n, PROSPECT_ID, dtype=np.int64)
    segment_ids[clustered] = [fit.mapping[int(c)] for c in labels]
    distance = np.full(n, np.nan)
    distance[clustered] = np.linalg.norm(x - centres(fit.model)[labels], axis=1)
    profiles, z_frame = build_profiles(prepared, clustered, segment_ids, fit.centroids, fit.matched)
    names = dict(zip(profiles["segment_id"], profiles["name"], strict=True))
    metrics, baseline_metrics = _metrics(fit, x, labels, prepared, clustered, params)
    window = {"as_of": _as_of(frame), "n_customers": n}
    assignments = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "segment_id": segment_ids,
            "segment_name": [names[s_] for s_ in segment_ids],
            "distance": distance,
            "model_version": version,
            "scored_at": run_at,
        }
    )
    profiles["model_version"] = version
    profiles["scored_at"] = run_at
    run = ModelRun(
        MODEL_NAME, version, run_at, asdict(params), metrics, baseline_metrics,
        {**fit.window, **window}, None, selection.decision,
    )  # fmt: skip
    state = PreviousSegmentation(centroids=fit.centroids, names={int(s): names[s] for s in names})
    projection = _projection(scaled, labels, fit.mapping, params)
    return SegmentationResult(assignments, profiles, run, state, z_frame, projection)


def _cluster(purchasers: pd.DataFrame, params: SegmentationParams) -> _Clusters:
    """Build the space, choose k on a sample, label every clustered customer."""
    space = build_space(purchasers, params)
    x = space.cluster_space
    fit_idx = sample_index(len(x), params.fit_sample, params.seed)
    model, search = choose_k(x[fit_idx], params)
    return _Clusters(space, model, search, fit_idx, model.predict(x))


def _stable_ids(
    fit: _Clusters, previous: PreviousSegmentation | None, params: SegmentationParams
) -> tuple[dict[int, dict[str, float]], dict[int, int], dict[int, float]]:
    """Centroids by segment id (prepared, unscaled space), label -> id, reused ids' costs."""
    space = fit.space
    by_label: dict[int, dict[str, float]] = {}
    sizes: dict[int, int] = {}
    for c in sorted(set(fit.labels.tolist())):
        sel = fit.labels == c
        sizes[c] = int(sel.sum())
        vec = space.prepared[sel].mean(axis=0)
        by_label[c] = {n_: float(v) for n_, v in zip(space.names, vec, strict=True)}
    scale = {
        n_: float(s_) if s_ > 0 else 1.0 for n_, s_ in zip(space.names, space.scale, strict=True)
    }
    mapping, match_cost = match_ids(by_label, sizes, scale, previous, params.match_threshold)
    centroids = {
        int(mapping[c]): {n_: round(v, 8) for n_, v in cen.items()} for c, cen in by_label.items()
    }
    return centroids, mapping, match_cost


def _metrics(
    fit: SegmentationFit,
    x: np.ndarray,
    labels: np.ndarray,
    prepared: pd.DataFrame,
    clustered: np.ndarray,
    params: SegmentationParams,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Quality of today's placement (and the fit's k and stability), and of the RFM grid."""
    n = len(prepared)
    baseline = rfm_grid_labels(prepared[clustered].reset_index(drop=True))
    baseline_sil = silhouette(x, baseline, params) if baseline is not None else float("nan")
    metrics = {
        **fit.metrics,
        "n_customers": n,
        "n_clustered": int(clustered.sum()),
        "n_prospects": int(n - clustered.sum()),
        "silhouette": silhouette(x, labels, params),
    }
    baseline_metrics = {
        "rfm_grid_silhouette": baseline_sil,
        "rfm_grid": "recency tercile x monetary tercile of purchasers, same space",
    }
    return metrics, baseline_metrics


def _projection(
    scaled: np.ndarray, labels: np.ndarray, mapping: dict[int, int], params: SegmentationParams
) -> pd.DataFrame:
    """A customer sample on the first two principal components, with its segment ids."""
    idx = sample_index(len(scaled), params.projection_sample, params.seed + 3)
    pts = PCA(n_components=2, random_state=params.seed).fit_transform(scaled[idx])
    ids = np.array([mapping[int(c)] for c in labels[idx]])
    return pd.DataFrame({"pc1": pts[:, 0], "pc2": pts[:, 1], "segment_id": ids})


def _as_of(frame: pd.DataFrame) -> str | None:
    if "as_of_date" in frame.columns and frame["as_of_date"].notna().any():
        return str(pd.to_datetime(frame["as_of_date"]).max().date())
    return None
