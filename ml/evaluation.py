"""Model evaluation: classification metrics, lift, calibration, drift (PSI), fairness."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

PSI_WARN = 0.2
_EPS = 1e-4


def lift_at(y_true: np.ndarray, y_score: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate in the top `fraction` by score divided by the overall positive rate."""
    y_true = np.asarray(y_true, dtype=float)
    y_score = np.asarray(y_score, dtype=float)
    base = y_true.mean() if y_true.size else 0.0
    if base == 0:
        return float("nan")
    n_top = max(1, int(math.ceil(fraction * y_true.size)))
    order = np.lexsort((np.arange(y_score.size), -y_score))
    return float(y_true[order[:n_top]].mean() / base)


def lift_curve(y_true: np.ndarray, y_score: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Positive rate and lift per score decile (decile 1 = highest scores)."""
    y_true = np.asarray(y_true, dtype=float)
    order = np.lexsort((np.arange(len(y_score)), -np.asarray(y_score, dtype=float)))
    bins = np.array_split(order, n_bins)
    base = y_true.mean()
    rows = []
    cum_pos = 0.0
    for i, idx in enumerate(bins, start=1):
        rate = float(y_true[idx].mean()) if idx.size else float("nan")
        cum_pos += y_true[idx].sum()
        rows.append(
            {
                "decile": i,
                "n": int(idx.size),
                "positive_rate": rate,
                "lift": rate / base if base else float("nan"),
                "cumulative_gain": cum_pos / y_true.sum() if y_true.sum() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def calibration_table(y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed rate in equal-count bins of the predicted probability."""
    y_true = np.asarray(y_true, dtype=float)
    y_prob = np.asarray(y_prob, dtype=float)
    order = np.lexsort((np.arange(y_prob.size), y_prob))
    rows = []
    for idx in np.array_split(order, n_bins):
        if idx.size == 0:
            continue
        rows.append(
            {
                "mean_predicted": float(y_prob[idx].mean()),
                "observed_rate": float(y_true[idx].mean()),
                "n": int(idx.size),
            }
        )
    return pd.DataFrame(rows)


def classification_metrics(y_true: np.ndarray, y_prob: np.ndarray) -> dict[str, Any]:
    """ROC-AUC, PR-AUC, Brier, log loss, top-decile lift and a calibration curve."""
    y_true = np.asarray(y_true, dtype=int)
    y_prob = np.clip(np.asarray(y_prob, dtype=float), 0.0, 1.0)
    both = len(np.unique(y_true)) == 2
    cal = calibration_table(y_true, y_prob)
    return {
        "n": int(y_true.size),
        "positive_rate": float(y_true.mean()) if y_true.size else float("nan"),
        "roc_auc": float(roc_auc_score(y_true, y_prob)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y_true, y_prob)) if both else float("nan"),
        "brier": float(brier_score_loss(y_true, y_prob)) if y_true.size else float("nan"),
        "log_loss": float(log_loss(y_true, y_prob, labels=[0, 1])) if y_true.size else None,
        "lift_top_decile": lift_at(y_true, y_prob, 0.1),
        "calibration_curve": {
            "mean_predicted": [round(v, 6) for v in cal["mean_predicted"]],
            "observed_rate": [round(v, 6) for v in cal["observed_rate"]],
        },
    }


# --- drift -------------------------------------------------------------------------------


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=float)
    return np.clip(shares, _EPS, None)


def psi_from_shares(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_edges(values: np.ndarray, bins: int) -> list[float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    qs = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return sorted({float(q) for q in qs})


def _numeric_counts(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Counts per bin: (-inf, e0], (e0, e1], ..., (e_last, inf), then a null bin."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    idx = np.searchsorted(np.asarray(edges, dtype=float), values[finite], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    return np.append(counts, float((~finite).sum()))


def _is_categorical(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def psi(expected: pd.Series | np.ndarray, actual: pd.Series | np.ndarray, bins: int = 10) -> float:
    """Population stability index of `actual` against `expected` (quantile bins of expected)."""
    exp_s, act_s = pd.Series(expected), pd.Series(actual)
    profile = _feature_profile(exp_s, bins)
    return psi_from_shares(profile["shares"], _profile_shares(profile, act_s))


def _feature_profile(series: pd.Series, bins: int) -> dict[str, Any]:
    if _is_categorical(series):
        values = series.astype("object").where(series.notna(), None)
        counts = values.value_counts(dropna=False)
        cats = sorted(str(k) for k in counts.index if k is not None)
        shares = [float((values == c).sum()) for c in cats]
        shares.append(float(values.isna().sum()))
        shares.append(0.0)  # bucket for categories unseen at profiling time
        arr = _shares(np.array(shares))
        return {"kind": "categorical", "categories": cats, "shares": arr.round(8).tolist()}
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    edges = _numeric_edges(values, bins)
    arr = _shares(_numeric_counts(values, edges))
    return {"kind": "numeric", "edges": edges, "shares": arr.round(8).tolist()}


def _profile_shares(profile: Mapping[str, Any], series: pd.Series) -> np.ndarray:
    if profile["kind"] == "categorical":
        values = (
            series.astype("object")
            .where(series.notna(), None)
            .map(lambda v: None if v is None else str(v))
        )
        cats = list(profile["categories"])
        counts = [float((values == c).sum()) for c in cats]
        counts.append(float(values.isna().sum()))
        counts.append(float((values.notna() & ~values.isin(cats)).sum()))
        return _shares(np.array(counts))
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    return _shares(_numeric_counts(values, profile["edges"]))


def drift_profile(frame: pd.DataFrame, columns: Sequence[str], bins: int = 10) -> dict[str, Any]:
    """A compact, JSON-serialisable reference distribution of each column (for the next PSI)."""
    return {
        "bins": bins,
        "n": len(frame),
        "features": {c: _feature_profile(frame[c], bins) for c in columns if c in frame.columns},
    }


def feature_drift(
    reference: Mapping[str, Any] | None, frame: pd.DataFrame, warn_above: float = PSI_WARN
) -> pd.DataFrame:
    """PSI of each profiled column of `frame` against a previous run's drift_profile."""
    cols = ["feature", "psi", "n_reference", "n_current", "status"]
    if not reference:
        return pd.DataFrame(columns=cols)
    rows = []
    for name, prof in sorted(reference.get("features", {}).items()):
        if name not in frame.columns:
            rows.append([name, float("nan"), reference.get("n"), len(frame), "missing"])
            continue
        value = psi_from_shares(prof["shares"], _profile_shares(prof, frame[name]))
        status = "warn" if value > warn_above else "ok"
        rows.append([name, value, reference.get("n"), len(frame), status])
    return pd.DataFrame(rows, columns=cols)


# --- fairness ----------------------------------------------------------------------------

FAIRNESS_COLUMNS = [
    "attribute",
    "group",
    "n",
    "share",
    "mean_score",
    "p10_score",
    "median_score",
    "p90_score",
    "positive_rate",
    "positive_rate_gap",
    "holdout_n",
    "observed_churn_rate",
    "auc",
    "auc_gap",
    "flagged",
    "reason",
]


def _groups(frame: pd.DataFrame, attr: str) -> pd.Series:
    """The attribute's values as group labels, null as "(missing)"."""
    return frame[attr].astype("object").where(frame[attr].notna(), "(missing)")


def _score_stats(sel: np.ndarray, total: int, threshold: float, overall_pos: float) -> dict:
    """Distribution and positive rate of one group's scores."""
    pos = float((sel >= threshold).mean())
    return {
        "n": int(sel.size),
        "share": sel.size / total,
        "mean_score": float(sel.mean()),
        "p10_score": float(np.quantile(sel, 0.1)),
        "median_score": float(np.median(sel)),
        "p90_score": float(np.quantile(sel, 0.9)),
        "positive_rate": pos,
        "positive_rate_gap": pos - overall_pos,
    }


def _holdout_stats(
    held: pd.DataFrame | None, score_col: str, label_col: str, min_group_size: int, overall_auc
) -> dict:
    """Observed rate and AUC of one group on the held-out window (NaN where unknown)."""
    row: dict[str, Any] = {
        "holdout_n": 0,
        "observed_churn_rate": float("nan"),
        "auc": float("nan"),
        "auc_gap": float("nan"),
    }
    if held is None:
        return row
    row["holdout_n"] = len(held)
    if len(held):
        row["observed_churn_rate"] = float(held[label_col].mean())
    if len(held) >= min_group_size and held[label_col].nunique() == 2:
        row["auc"] = float(roc_auc_score(held[label_col], held[score_col]))
        row["auc_gap"] = row["auc"] - overall_auc
    return row


def _flag_reasons(
    row: dict[str, Any], gap_threshold: float, auc_gap_threshold: float, min_group_size: int
) -> list[str]:
    """Why a group is flagged: a large positive-rate gap (big enough group) or AUC gap."""
    reasons = []
    if row["n"] >= min_group_size and abs(row["positive_rate_gap"]) > gap_threshold:
        reasons.append(f"positive rate gap {row['positive_rate_gap']:+.3f}")
    if not math.isnan(row["auc_gap"]) and abs(row["auc_gap"]) > auc_gap_threshold:
        reasons.append(f"AUC gap {row['auc_gap']:+.3f}")
    return reasons


def fairness_audit(
    scores: pd.DataFrame,
    attributes: Sequence[str],
    score_col: str = "churn_probability",
    positive_threshold: float = 0.5,
    holdout: pd.DataFrame | None = None,
    label_col: str = "churned",
    gap_threshold: float = 0.1,
    auc_gap_threshold: float = 0.05,
    min_group_size: int = 30,
) -> pd.DataFrame:
    """Score distribution, positive rate and AUC per group of each attribute; flag large gaps.

    `scores` holds current scores joined with the attributes; `holdout` (optional) holds
    held-out predictions (`score_col`) with true labels (`label_col`) for AUC by group.
    """
    rows: list[dict[str, Any]] = []
    overall_pos = float((scores[score_col] >= positive_threshold).mean()) if len(scores) else 0.0
    overall_auc = float("nan")
    if holdout is not None and len(holdout) and holdout[label_col].nunique() == 2:
        overall_auc = float(roc_auc_score(holdout[label_col], holdout[score_col]))
    for attr in attributes:
        if attr not in scores.columns or scores[attr].notna().sum() == 0:
            continue
        groups = _groups(scores, attr)
        hold_groups = None
        if holdout is not None and attr in holdout.columns:
            hold_groups = _groups(holdout, attr)
        for group in sorted(groups.unique(), key=str):
            sel = scores.loc[groups == group, score_col].to_numpy(dtype=float)
            held = holdout.loc[hold_groups == group] if hold_groups is not None else None
            row: dict[str, Any] = {
                "attribute": attr,
                "group": str(group),
                **_score_stats(sel, len(scores), positive_threshold, overall_pos),
                **_holdout_stats(held, score_col, label_col, min_group_size, overall_auc),
            }
            reasons = _flag_reasons(row, gap_threshold, auc_gap_threshold, min_group_size)
            row["flagged"] = bool(reasons)
            row["reason"] = "; ".join(reasons)
            rows.append(row)
    return pd.DataFrame(rows, columns=FAIRNESS_COLUMNS)
