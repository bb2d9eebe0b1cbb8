"""Customer segmentation: features -> scaled space -> KMeans/GMM, named, stable ids.

Public API::

    segment(customer_360, params=SegmentationParams(), previous=None, run_at=None)
        -> SegmentationResult(assignments, profiles, run_record, figures, state, metrics)

`previous` is the PreviousSegmentation of the last run (rebuild it with
PreviousSegmentation.from_profiles(<last run's ml.segment_profiles rows>)); clusters are
matched to its centroids so segment ids stay put when the data changes little.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.optimize import linear_sum_assignment
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ml import evaluation, features, plots

MODEL_NAME = "segmentation"


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


@dataclass
class SegmentationResult:
    """Everything a segmentation run produces, ready to write back."""

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    run_record: pd.DataFrame
    figures: dict[str, Figure]
    state: PreviousSegmentation
    metrics: dict[str, Any]


@dataclass
class _Space:
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


def _sample_index(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _build_space(prepared: pd.DataFrame, params: SegmentationParams) -> _Space:
    prepared = prepared.copy()
    # Never seen (no visit, no purchase) is as far back as the furthest observed value.
    for col in ("recency_days", "days_since_last_visit"):
        if col in prepared and prepared[col].notna().any():
            prepared[col] = prepared[col].fillna(prepared[col].max())
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
    weights = _group_weights(names, spec, params)
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
    return _Space(pre, spec, names, prepared_matrix, scale, scaled, cluster_space, pca, dropped)


def _group_weights(
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


def _model(k: int, params: SegmentationParams, seed: int) -> KMeans | GaussianMixture:
    if params.method == "gmm":
        return GaussianMixture(
            n_components=k, covariance_type="full", n_init=2, random_state=seed, reg_covar=1e-4
        )
    return KMeans(n_clusters=k, n_init=params.n_init, random_state=seed)


def _silhouette(x: np.ndarray, labels: np.ndarray, params: SegmentationParams) -> float:
    if len(np.unique(labels)) < 2:
        return float("nan")
    idx = _sample_index(len(x), params.silhouette_sample, params.seed + 7)
    if len(np.unique(labels[idx])) < 2:
        return float("nan")
    return float(silhouette_score(x[idx], labels[idx]))


def _bootstrap_ari(x: np.ndarray, model: Any, params: SegmentationParams) -> list[float]:
    """ARI between the model's labels and models refit on bootstrap resamples."""
    idx = _sample_index(len(x), params.bootstrap_sample, params.seed + 11)
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


def _choose_k(x_fit: np.ndarray, params: SegmentationParams) -> tuple[Any, dict[str, Any]]:
    n = len(x_fit)
    k_max = min(params.k_max, n - 1)
    k_min = min(params.k_min, k_max)
    if k_min < 2:
        raise ValueError(f"need at least 3 customers to segment, got {n}")
    search: list[dict[str, Any]] = []
    models: dict[int, Any] = {}
    for k in range(k_min, k_max + 1):
        model = _model(k, params, params.seed).fit(x_fit)
        labels = model.predict(x_fit)
        entry: dict[str, Any] = {"k": k, "silhouette": _silhouette(x_fit, labels, params)}
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
        aris = _bootstrap_ari(x_fit, models[entry["k"]], params)
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


def _centres(model: Any) -> np.ndarray:
    return model.means_ if isinstance(model, GaussianMixture) else model.cluster_centers_


def _match_ids(
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


# --- naming ------------------------------------------------------------------------------


def _humanise_category(column: str) -> str:
    return column.removeprefix(features.CATEGORY_SHARE_PREFIX).replace("_", " ")


def _segment_name(
    z: pd.Series, means: pd.Series, overall: pd.Series, purchaser_share: float
) -> str:
    """A short deterministic name from a segment's z-scores against all customers."""

    def zget(*cols: str) -> float:
        vals = [z[c] for c in cols if c in z.index and pd.notna(z[c])]
        return float(np.mean(vals)) if vals else 0.0

    traits: list[str] = []
    if zget("discount_share") >= 0.75:
        traits.append("bargain hunters")
    shares = [c for c in means.index if c.startswith(features.CATEGORY_SHARE_PREFIX)]
    if shares:
        ratio = {c: means[c] / overall[c] if overall[c] > 0 else 0.0 for c in shares}
        best = max(sorted(ratio), key=lambda c: ratio[c])
        if ratio[best] >= 1.8 and means[best] >= 0.35:
            traits.append(f"{_humanise_category(best)} lovers")
    if zget("return_rate") >= 1.0:
        traits.append("frequent returners")
    if zget("sessions_90d", "product_views_90d") >= 0.75:
        traits.append("engaged browsers")
    elif zget("email_open_rate", "email_click_rate") >= 0.75:
        traits.append("email readers")
    noun = traits[0] if traits else "customers"

    if purchaser_share < 0.5:
        if zget("sessions_90d", "product_views_90d", "email_open_rate") >= 0.5:
            return "Engaged prospects"
        return "Prospects (no purchase yet)"
    z_rec, z_freq = zget("recency_days"), zget("frequency", "orders_90d")
    z_val = zget("monetary", "avg_order_value")
    if z_rec >= 1.0:
        stage = "lapsed"
    elif z_rec >= 0.4:
        stage = "lapsing"
    elif zget("tenure_days") <= -0.75 and z_freq <= 0:
        stage = "new"
    elif z_freq >= 0.5:
        stage = "loyal"
    elif z_rec <= -0.4:
        stage = "active"
    else:
        stage = "occasional"
    value = "high-value" if z_val >= 0.75 else "low-value" if z_val <= -0.5 else ""
    words = [w for w in (value, stage, noun) if w]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _fmt_num(v: float) -> str:
    if pd.isna(v):
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"


def _describe(
    size: int, share: float, means: pd.Series, medians: pd.Series, overall: pd.Series
) -> str:
    """One or two sentences an operator can read."""
    parts = [f"{size:,} customers ({share:.0%})."]
    facts = []
    if "recency_days" in medians.index:
        facts.append(f"last purchase a median {_fmt_num(medians['recency_days'])} days ago")
    if "frequency" in means.index:
        facts.append(f"{_fmt_num(means['frequency'])} orders on average")
    if "monetary" in means.index and overall.get("monetary", 0):
        idx = means["monetary"] / overall["monetary"]
        facts.append(f"spend {_fmt_num(means['monetary'])} ({idx:.1f}x the average)")
    if facts:
        parts.append(facts[0][0].upper() + "; ".join(facts)[1:] + ".")
    shares = [c for c in means.index if c.startswith(features.CATEGORY_SHARE_PREFIX)]
    if shares:
        best = max(sorted(shares), key=lambda c: means[c])
        parts.append(f"Top category {_humanise_category(best)} ({means[best]:.0%} of spend).")
    if "sessions_90d" in means.index:
        parts.append(f"{_fmt_num(means['sessions_90d'])} sessions in 90 days.")
    if "discount_share" in means.index:
        parts.append(f"{means['discount_share']:.0%} of spend discounted.")
    return " ".join(parts)


def _unique_names(names: dict[int, str], z: pd.DataFrame) -> dict[int, str]:
    """Disambiguate duplicate names with the segment's most distinctive feature."""
    out = dict(names)
    counts = pd.Series(list(names.values())).value_counts()
    for sid in sorted(names):
        if counts[names[sid]] > 1:
            row = z.loc[sid].dropna()
            top = row.abs().sort_values(ascending=False, kind="mergesort").index[0]
            label = top.removeprefix(features.CATEGORY_SHARE_PREFIX).replace("_", " ")
            out[sid] = f"{names[sid]} ({'high' if row[top] > 0 else 'low'} {label})"
    seen: dict[str, int] = {}
    for sid in sorted(out):
        seen[out[sid]] = seen.get(out[sid], 0) + 1
        if seen[out[sid]] > 1:
            out[sid] = f"{out[sid]} #{seen[out[sid]]}"
    return out


# --- main entry point --------------------------------------------------------------------


def segment(
    customer_360: pd.DataFrame,
    params: SegmentationParams | None = None,
    previous: PreviousSegmentation | None = None,
    run_at: datetime | None = None,
) -> SegmentationResult:
    """Segment every customer of customer_360; match ids to `previous`; name and profile."""
    params = params or SegmentationParams()
    with threadpool_limits(limits=params.threads):
        return _segment(customer_360, params, previous, run_at)


PROSPECT_ID = 0
PROSPECT_NAME = "Prospects (no purchase yet)"


def _profile_z(prepared: pd.DataFrame, reference: np.ndarray, cols: list[str]) -> pd.DataFrame:
    """Per-customer z-scores of profile columns (log1p when skewed) against the reference rows."""
    raw = prepared[cols].astype(float)
    ref = raw[reference]
    log = features.Log1pSkewed().fit(ref.to_numpy())
    values = pd.DataFrame(
        np.where(log.log_mask_, np.log1p(np.clip(raw.to_numpy(), 0, None)), raw.to_numpy()),
        columns=cols,
        index=raw.index,
    )
    mean = values[reference].mean()
    std = values[reference].std(ddof=0).replace(0, np.nan)
    return (values - mean) / std


def _segment(
    customer_360: pd.DataFrame,
    params: SegmentationParams,
    previous: PreviousSegmentation | None,
    run_at: datetime | None,
) -> SegmentationResult:
    run_at = run_at or datetime.now(UTC)
    frame = customer_360.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    prepared = features.prepare(frame)
    n = len(frame)
    if params.prospect_segment:
        clustered = features.is_purchaser(prepared).to_numpy()
    else:
        clustered = np.ones(n, dtype=bool)
    if clustered.sum() <= params.k_min:
        raise ValueError(
            f"need more than k_min={params.k_min} purchasers to segment, got {clustered.sum()}"
        )
    space = _build_space(prepared[clustered].reset_index(drop=True), params)
    x = space.cluster_space
    fit_idx = _sample_index(len(x), params.fit_sample, params.seed)
    model, search_info = _choose_k(x[fit_idx], params)
    raw_labels = model.predict(x)
    k = int(search_info["k"])

    # Centroids in the prepared (imputed, log, unscaled) space, keyed by feature name.
    new_centroids: dict[int, dict[str, float]] = {}
    sizes: dict[int, int] = {}
    for c in sorted(set(raw_labels.tolist())):
        sel = raw_labels == c
        sizes[c] = int(sel.sum())
        vec = space.prepared[sel].mean(axis=0)
        new_centroids[c] = {n_: float(v) for n_, v in zip(space.names, vec, strict=True)}
    scale = {
        n_: float(s_) if s_ > 0 else 1.0 for n_, s_ in zip(space.names, space.scale, strict=True)
    }
    mapping, match_cost = _match_ids(new_centroids, sizes, scale, previous, params.match_threshold)
    segment_ids = np.full(n, PROSPECT_ID, dtype=np.int64)
    segment_ids[clustered] = [mapping[c] for c in raw_labels]
    distance = np.full(n, np.nan)
    distance[clustered] = np.linalg.norm(x - _centres(model)[raw_labels], axis=1)

    # Profiles: raw means, z-scores against the clustered customers, names, descriptions.
    profile_cols = features.non_null_columns(
        prepared,
        [*features.PROFILE_NUMERIC, *features.category_share_columns(prepared)],
    )
    raw = prepared[profile_cols].astype(float)
    z_all = _profile_z(prepared, clustered, profile_cols)
    purchaser = features.is_purchaser(prepared).to_numpy()
    overall = raw.mean()
    ids_sorted = sorted(set(segment_ids.tolist()))
    z_rows, names, rows = {}, {}, []
    for sid in ids_sorted:
        sel = segment_ids == sid
        means, medians = raw[sel].mean(), raw[sel].median()
        z = z_all[sel].mean()
        z_rows[sid] = z
        size, share = int(sel.sum()), float(sel.mean())
        if sid == PROSPECT_ID:
            names[sid] = PROSPECT_NAME
            centroid: dict[str, float] = {}
            description = _describe_prospects(size, share, means)
        else:
            names[sid] = _segment_name(z, means, overall, float(purchaser[sel].mean()))
            label = next(c for c, s_ in mapping.items() if s_ == sid)
            centroid = {n_: round(v, 8) for n_, v in new_centroids[label].items()}
            description = _describe(size, share, means, medians, overall)
        rows.append(
            {
                "segment_id": int(sid),
                "size": size,
                "share": share,
                "description": description,
                "feature_means": evaluation.to_json(means.round(6).to_dict()),
                "overall_means": evaluation.to_json(overall.round(6).to_dict()),
                "feature_z": evaluation.to_json(z.round(4).to_dict()),
                "centroid": evaluation.to_json(centroid),
                "matched_previous": bool(sid in match_cost),
            }
        )
    z_frame = pd.DataFrame(z_rows).T
    names = _unique_names(names, z_frame)

    silhouette = _silhouette(x, raw_labels, params)
    aris = _bootstrap_ari(x[fit_idx], model, params)
    baseline = _rfm_grid_labels(prepared[clustered].reset_index(drop=True))
    baseline_sil = _silhouette(x, baseline, params) if baseline is not None else float("nan")
    metrics = {
        "k": k,
        "method": params.method,
        "n_customers": n,
        "n_clustered": int(clustered.sum()),
        "n_prospects": int(n - clustered.sum()),
        "silhouette": silhouette,
        "bootstrap_ari_mean": float(np.mean(aris)) if aris else float("nan"),
        "bootstrap_ari_min": float(np.min(aris)) if aris else float("nan"),
        "criterion": search_info["criterion"],
        "search": search_info["search"],
        "cluster_dimensions": int(x.shape[1]),
        "ids_reused": len(match_cost),
        "ids_new": k - len(match_cost),
        "match_cost": {str(s_): round(c, 4) for s_, c in sorted(match_cost.items())},
        "features": space.names,
        "dropped_correlated": space.dropped,
    }
    baseline_metrics = {
        "rfm_grid_silhouette": baseline_sil,
        "rfm_grid": "recency tercile x monetary tercile of purchasers, same space",
    }
    params_dict = asdict(params)
    window = {"as_of": _as_of(frame), "n_customers": n}
    version = evaluation.model_version(
        MODEL_NAME, params_dict, window, evaluation.code_version(sys.modules[__name__], features)
    )

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
    profiles = pd.DataFrame(rows)
    profiles.insert(1, "name", [names[s_] for s_ in profiles["segment_id"]])
    profiles["model_version"] = version
    profiles["scored_at"] = run_at
    run_record = pd.DataFrame(
        [
            {
                "model": MODEL_NAME,
                "model_version": version,
                "trained_at": run_at,
                "params": evaluation.to_json(params_dict),
                "metrics": evaluation.to_json(metrics),
                "baseline_metrics": evaluation.to_json(baseline_metrics),
                "data_window": evaluation.to_json(window),
            }
        ]
    )
    z_frame.index = [f"{s_}: {names[s_]}" for s_ in z_frame.index]
    proj_idx = _sample_index(len(x), params.projection_sample, params.seed + 3)
    pts = PCA(n_components=2, random_state=params.seed).fit_transform(space.scaled[proj_idx])
    figures = {
        "segment_sizes": plots.segment_sizes(profiles),
        "segment_heatmap": plots.segment_heatmap(z_frame),
        "segment_projection": plots.projection(
            pts, np.array([mapping[c] for c in raw_labels[proj_idx]]), names
        ),
    }
    state = PreviousSegmentation(
        centroids={
            int(mapping[c]): {n_: round(v, 8) for n_, v in cen.items()}
            for c, cen in new_centroids.items()
        },
        names={int(s_): names[s_] for s_ in ids_sorted},
    )
    return SegmentationResult(assignments, profiles, run_record, figures, state, metrics)


def _describe_prospects(size: int, share: float, means: pd.Series) -> str:
    """Description of the rule-based segment of customers without a purchase."""
    text = f"{size:,} customers ({share:.0%}) with no completed purchase yet."
    if "sessions_90d" in means.index and pd.notna(means["sessions_90d"]):
        text += f" {_fmt_num(means['sessions_90d'])} sessions in 90 days on average."
    return text


def _as_of(frame: pd.DataFrame) -> str | None:
    if "as_of_date" in frame.columns and frame["as_of_date"].notna().any():
        return str(pd.to_datetime(frame["as_of_date"]).max().date())
    return None


def _rfm_grid_labels(prepared: pd.DataFrame) -> np.ndarray | None:
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
