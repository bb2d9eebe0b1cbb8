"""Segment profiles: size, share, feature means and z-scores, name, description, centroid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import features
from ml.runs import to_json
from ml.segmentation.naming import describe, describe_prospects, segment_name, unique_names
from ml.segmentation.params import PROSPECT_ID, PROSPECT_NAME


def profile_z(prepared: pd.DataFrame, reference: np.ndarray, cols: list[str]) -> pd.DataFrame:
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


def build_profiles(
    prepared: pd.DataFrame,
    clustered: np.ndarray,
    segment_ids: np.ndarray,
    centroids: dict[int, dict[str, float]],
    matched: set[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One ml.segment_profiles row per segment id, and the segments' mean z-scores.

    z-scores are measured against the clustered customers; `centroids` are keyed by segment
    id (the prospects segment has none), `matched` holds the ids reused from the last run.
    """
    profile_cols = features.non_null_columns(
        prepared,
        [*features.PROFILE_NUMERIC, *features.category_share_columns(prepared)],
    )
    raw = prepared[profile_cols].astype(float)
    z_all = profile_z(prepared, clustered, profile_cols)
    purchaser = features.is_purchaser(prepared).to_numpy()
    overall = raw.mean()
    z_rows, names, rows = {}, {}, []
    for sid in sorted(set(segment_ids.tolist())):
        sel = segment_ids == sid
        means, medians = raw[sel].mean(), raw[sel].median()
        z = z_all[sel].mean()
        z_rows[sid] = z
        size, share = int(sel.sum()), float(sel.mean())
        if sid == PROSPECT_ID:
            names[sid] = PROSPECT_NAME
            centroid: dict[str, float] = {}
            description = describe_prospects(size, share, means)
        else:
            names[sid] = segment_name(z, means, overall, float(purchaser[sel].mean()))
            centroid = {n_: round(v, 8) for n_, v in centroids[sid].items()}
            description = describe(size, share, means, medians, overall)
        rows.append(
            {
                "segment_id": int(sid),
                "size": size,
                "share": share,
                "description": description,
                "feature_means": to_json(means.round(6).to_dict()),
                "overall_means": to_json(overall.round(6).to_dict()),
                "feature_z": to_json(z.round(4).to_dict()),
                "centroid": to_json(centroid),
                "matched_previous": bool(sid in matched),
            }
        )
    z_frame = pd.DataFrame(z_rows).T
    names = unique_names(names, z_frame)
    profiles = pd.DataFrame(rows)
    profiles.insert(1, "name", [names[s_] for s_ in profiles["segment_id"]])
    return profiles, z_frame
