"""Churn scoring: point-in-time training on history cutoffs, calibrated gradient boosting.

Definition: a customer churns at cutoff c when they make no completed purchase in
(c, c + horizon_days]. Labels come from `features.label_query(horizon_days)` run against the
warehouse (columns customer_id, cutoff_date, churned).

Eligibility: a (customer, cutoff) pair is a training/evaluation example when the customer
has at least one completed order on or before the cutoff (frequency >= 1). Customers with
no purchase yet ("prospects") are scored by rule: the observed share of prospects at the
labelled cutoffs who did not buy within the horizon.

Split: the most recent labelled cutoff is the held-out window; the model and both baselines
(recency alone, logistic regression on RFM) are trained on cutoffs whose label window ends
on or before it. Then the model is refit on all labelled cutoffs and scores customer_360
as of its as-of date.

Model: one HistGradientBoosting classifier per fit (categoricals as native category codes,
no one-hot), early-stopped and calibrated (Platt sigmoid by default) on a held-out 20% of
customers the trees never see; above max_train_rows the tree rows are a sample stratified by
cutoff and label (reported in metrics). Drivers are computed on the model matrix: one batch
prediction per feature group, not one per customer.

Public API::

    train_and_score_churn(history, labels, current, params=ChurnParams(),
                          previous_drift_profile=None, run_at=None) -> ChurnResult
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ml import evaluation, features, plots

MODEL_NAME = "churn"
ELIGIBILITY = "at least one completed order on or before the cutoff (frequency >= 1)"
PROSPECT_RULE = "share of no-purchase customers at labelled cutoffs who stayed without purchase"


@dataclass(frozen=True)
class ChurnParams:
    """Hyper-parameters and thresholds of a churn run."""

    horizon_days: int = 90
    seed: int = 42
    risk_bands: tuple[float, float] = (0.3, 0.6)
    calibration: Literal["isotonic", "sigmoid"] = "sigmoid"
    # How the calibration rows are held out of tree training: "grouped" = a share of
    # customers (all their cutoffs); "time" = the latest training cutoff whose earlier rows'
    # label windows end by it (falls back to "grouped" with a single training cutoff).
    calibration_cv: Literal["grouped", "time"] = "grouped"
    calibration_fraction: float = 0.2
    # Early stopping watches the calibration rows ("calibration": the trees train on every
    # other row) or a further grouped share of the tree-training customers ("separate").
    early_stopping: Literal["calibration", "separate"] = "calibration"
    validation_fraction: float = 0.1
    learning_rate: float = 0.1
    max_iter: int = 300
    n_iter_no_change: int = 15
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    min_frequency: float = 0.01
    max_categories: int = 30
    # Above this many tree-training rows, a sample stratified by cutoff and label is used
    # (reported in metrics as training_rows / training_rows_available).
    max_train_rows: int = 400_000
    n_drivers: int = 3
    driver_groups: int = 10
    driver_sample: int = 2_000
    fairness_attributes: tuple[str, ...] = features.PROTECTED_COLUMNS
    fairness_gap: float = 0.1
    fairness_auc_gap: float = 0.05
    fairness_min_group: int = 30
    psi_bins: int = 10
    psi_warn: float = 0.2
    # OpenMP/BLAS threads; the ML assets run one at a time (one-writer pool).
    threads: int | None = 1


@dataclass
class ChurnModel:
    """A fitted churn classifier: category codes -> gradient boosting -> calibration."""

    spec: features.FeatureSpec
    codes: features.CategoryCodes | None
    gbm: HistGradientBoostingClassifier
    calibrator: LogisticRegression | IsotonicRegression | None
    cutoffs: list[str]
    calibration_split: str
    info: dict[str, Any]

    def matrix(self, prepared: pd.DataFrame) -> np.ndarray:
        """The model matrix: numeric columns as floats, then categorical codes."""
        x = self.spec.frame(prepared)
        num = x[list(self.spec.numeric)].to_numpy(dtype="float64")
        if self.codes is None:
            return num
        return np.hstack([num, self.codes.transform(x[list(self.spec.categorical)])])

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated churn probability for rows of the model matrix."""
        if len(matrix) == 0:
            return np.zeros(0)
        if self.calibrator is None:
            return self.gbm.predict_proba(matrix)[:, 1]
        raw = self.gbm.decision_function(matrix)
        if isinstance(self.calibrator, IsotonicRegression):
            return np.clip(self.calibrator.predict(raw), 0.0, 1.0)
        return self.calibrator.predict_proba(raw.reshape(-1, 1))[:, 1]

    def predict(self, prepared: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability for prepared customer rows."""
        if len(prepared) == 0:
            return np.zeros(0)
        return self.predict_matrix(self.matrix(prepared))


@dataclass
class ChurnResult:
    """Everything a churn run produces, ready to write back."""

    scores: pd.DataFrame
    run_record: pd.DataFrame
    fairness: pd.DataFrame
    drift: pd.DataFrame
    drift_profile: dict[str, Any]
    figures: dict[str, Figure]
    metrics: dict[str, Any]
    holdout: pd.DataFrame
    model: ChurnModel


# --- examples and splits -----------------------------------------------------------------


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.tz_localize(None).dt.normalize()


def build_examples(history: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """History rows joined to their labels (inner join on customer_id, cutoff_date), prepared."""
    missing = {"customer_id", "cutoff_date", "churned"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels lack columns {sorted(missing)}")
    h = history.copy()
    h["cutoff_date"] = _day(h["cutoff_date"])
    lab = labels[["customer_id", "cutoff_date", "churned"]].copy()
    lab["cutoff_date"] = _day(lab["cutoff_date"])
    lab["churned"] = lab["churned"].astype(int)
    merged = h.merge(lab, on=["customer_id", "cutoff_date"], how="inner", validate="one_to_one")
    merged = merged.sort_values(["cutoff_date", "customer_id"], kind="mergesort")
    prepared = features.prepare(merged.reset_index(drop=True))
    prepared["eligible"] = features.is_purchaser(prepared).to_numpy()
    return prepared


def time_split(cutoffs: list[pd.Timestamp], horizon_days: int) -> tuple[list, pd.Timestamp | None]:
    """Training cutoffs (label window ends by the evaluation cutoff) and the evaluation cutoff."""
    ordered = sorted(set(cutoffs))
    if len(ordered) < 2:
        return ordered, None
    eval_cutoff = ordered[-1]
    horizon = pd.Timedelta(days=horizon_days)
    train = [c for c in ordered if c + horizon <= eval_cutoff]
    if not train:
        return ordered, None
    return train, eval_cutoff


def _customer_split(customer_ids: pd.Series, fraction: float, seed: int) -> np.ndarray:
    """True for the rows of a random `fraction` of customers (all rows of a customer together)."""
    ids = customer_ids.astype(str)
    unique = np.sort(ids.unique())
    n_out = int(round(fraction * len(unique)))
    if n_out < 1 or n_out >= len(unique):
        return np.zeros(len(ids), dtype=bool)
    chosen = np.random.default_rng(seed).choice(unique, size=n_out, replace=False)
    return ids.isin(chosen).to_numpy()


def _both_classes(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 2


def _calibration_rows(ex: pd.DataFrame, params: ChurnParams) -> tuple[np.ndarray, str]:
    """Rows held out of tree training to fit the calibration map, and how they were chosen.

    "grouped": params.calibration_fraction of the customers (a customer's rows at several
    cutoffs never sit on both sides). "time": the latest training cutoff t that has earlier
    rows whose label window ends by t; the trees then train on those earlier rows only
    (falls back to "grouped" when there is no such cutoff). Either way the calibration rows
    lie inside the training window, never in the held-out window or after it.
    """
    y = ex["churned"].to_numpy()
    if params.calibration_cv == "time":
        cut = ex["cutoff_date"].to_numpy()
        horizon = np.timedelta64(params.horizon_days, "D")
        for t in sorted(set(cut), reverse=True):
            train, cal = cut + horizon <= t, cut == t
            if train.any() and _both_classes(y[train]) and _both_classes(y[cal]):
                return cal, "time"
    cal = _customer_split(ex["customer_id"], params.calibration_fraction, params.seed)
    if cal.any() and _both_classes(y[cal]) and _both_classes(y[~cal]):
        return cal, "grouped"
    return np.zeros(len(ex), dtype=bool), "none"


def _stratified_subsample(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted row positions of a sample of `size` rows, proportional within each stratum."""
    n = len(strata)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    for value in np.unique(strata):
        rows = np.flatnonzero(strata == value)
        take = int(round(size * len(rows) / n))
        keep.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(keep))


def fit_churn_model(examples: pd.DataFrame, params: ChurnParams) -> ChurnModel:
    """Fit gradient boosting on eligible, labelled examples and calibrate it on held-out rows.

    One tree model per call: the trees train on most customers (early stopping watches a
    grouped validation share of them), and a calibration map (Platt sigmoid or isotonic on
    the raw score) is fitted on the calibration rows the trees never saw.
    """
    y_all = examples["churned"].to_numpy()
    if not _both_classes(y_all):
        raise ValueError("churn labels have a single class; cannot train")
    spec = features.churn_feature_spec(examples)
    codes = None
    if spec.categorical:
        codes = features.CategoryCodes(params.min_frequency, params.max_categories).fit(
            spec.frame(examples)[list(spec.categorical)]
        )
    model = ChurnModel(
        spec=spec,
        codes=codes,
        gbm=HistGradientBoostingClassifier(),
        calibrator=None,
        cutoffs=sorted(str(pd.Timestamp(c).date()) for c in examples["cutoff_date"].unique()),
        calibration_split="none",
        info={},
    )
    matrix = model.matrix(examples)
    cal, how = _calibration_rows(examples, params)
    if how == "time":
        horizon = np.timedelta64(params.horizon_days, "D")
        cut = examples["cutoff_date"].to_numpy()
        t = cut[cal].max()
        fit_rows = np.flatnonzero(cut + horizon <= t)
    else:
        fit_rows = np.flatnonzero(~cal)
    available = len(fit_rows)
    if available > params.max_train_rows:
        strata = examples["cutoff_date"].astype(str).to_numpy()[fit_rows] + y_all[fit_rows].astype(
            str
        )
        fit_rows = fit_rows[_stratified_subsample(strata, params.max_train_rows, params.seed)]
    if params.early_stopping == "separate":
        val = _customer_split(
            examples["customer_id"].iloc[fit_rows], params.validation_fraction, params.seed + 1
        )
        train_rows, val_rows = fit_rows[~val], fit_rows[val]
    else:
        train_rows, val_rows = fit_rows, np.flatnonzero(cal)
    early = bool(
        len(val_rows) and _both_classes(y_all[val_rows]) and _both_classes(y_all[train_rows])
    )
    if not early:
        train_rows = fit_rows
    mask = np.zeros(matrix.shape[1], dtype=bool)
    mask[len(spec.numeric) :] = True
    gbm = HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        categorical_features=mask if mask.any() else None,
        early_stopping=early,
        n_iter_no_change=params.n_iter_no_change,
        random_state=params.seed,
    )
    if early:
        gbm.fit(
            matrix[train_rows], y_all[train_rows], X_val=matrix[val_rows], y_val=y_all[val_rows]
        )
    else:
        gbm.fit(matrix[train_rows], y_all[train_rows])
    model.gbm = gbm
    if how != "none":
        raw = gbm.decision_function(matrix[cal])
        if params.calibration == "isotonic":
            model.calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                raw, y_all[cal]
            )
        else:
            model.calibrator = LogisticRegression(C=1e4, max_iter=1000).fit(
                raw.reshape(-1, 1), y_all[cal]
            )
    model.calibration_split = how
    model.info = {
        "training_rows_available": int(available),
        "training_rows": int(len(fit_rows)),
        "tree_rows": int(len(train_rows)),
        "early_stopping_rows": int(len(val_rows)) if early else 0,
        "calibration_rows": int(cal.sum()),
        "subsampled": bool(len(fit_rows) < available),
        "gbm_iterations": int(gbm.n_iter_),
    }
    return model


def _log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(x, 0, None))


def fit_baseline(examples: pd.DataFrame, columns: list[str]) -> Pipeline | None:
    """Logistic regression on log1p of the given columns (recency alone, or RFM)."""
    cols = features.non_null_columns(examples, columns)
    if not cols or examples["churned"].nunique() < 2:
        return None
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("log", FunctionTransformer(_log1p)),
            ("scale", StandardScaler()),
            ("lr", LogisticRegression(max_iter=1000)),
        ]
    )
    model.fit(examples[cols].astype(float), examples["churned"].to_numpy())
    model.columns_ = cols  # type: ignore[attr-defined]
    return model


def _predict_baseline(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    cols = model.columns_  # type: ignore[attr-defined]
    x = pd.DataFrame({c: frame.get(c, np.nan) for c in cols}).astype(float)
    return model.predict_proba(x)[:, 1]


BASELINES: dict[str, list[str]] = {
    "recency": ["recency_days"],
    "rfm_logistic": ["recency_days", "frequency", "monetary"],
}


# --- drivers -----------------------------------------------------------------------------

DRIVER_GROUPS: dict[str, tuple[str, ...]] = {
    "recency": ("recency_days", "overdue_ratio", "rfm_recency_score"),
    "order_trend": ("orders_30d", "orders_90d", "orders_prev_90d", "order_trend"),
    "frequency": ("frequency", "mean_interpurchase_days", "rfm_frequency_score", "rfm_score"),
    "spend": (
        "monetary",
        "avg_order_value",
        "historical_clv",
        "rfm_monetary_score",
        "revenue_90d",
        "revenue_prev_90d",
        "revenue_trend",
    ),
    "visits": (
        "days_since_last_visit",
        "sessions_7d",
        "sessions_30d",
        "sessions_90d",
        "sessions_prev_30d",
        "session_trend",
        "engagement_trend",
    ),
    "browsing": (
        "product_views_90d",
        "cart_adds_90d",
        "view_to_cart_rate",
        "cart_to_purchase_rate",
    ),
    "email": (
        "email_sends_90d",
        "email_opens_90d",
        "email_clicks_90d",
        "email_open_rate",
        "email_click_rate",
    ),
    "returns": ("cancel_rate", "return_rate"),
    "discount": ("discount_share",),
    "tenure": ("tenure_days",),
    "categories": ("distinct_categories", "top_category"),
    "consent": ("marketing_consent",),
}


def _driver_groups(spec: features.FeatureSpec) -> dict[str, list[str]]:
    """Feature groups explained together (a column not listed is its own group)."""
    cols = spec.columns
    groups: dict[str, list[str]] = {}
    taken: set[str] = set()
    for name, members in DRIVER_GROUPS.items():
        present = [c for c in members if c in cols]
        if name == "categories":
            present += [c for c in cols if c.startswith(features.CATEGORY_SHARE_PREFIX)]
        if present:
            groups[name] = present
            taken.update(present)
    for c in cols:
        if c not in taken:
            groups[c] = [c]
    return groups


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "unknown"
    if pct:
        return f"{float(v):.0%}"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}"


def _plural(n: float, word: str) -> str:
    return f"{_fmt(n)} {word}{'' if n == 1 else 's'}"


def _above(r: dict[str, Any], ref: dict[str, Any], col: str) -> bool:
    v, typical = r.get(col), ref.get(col)
    return (
        v is not None and typical is not None and pd.notna(v) and pd.notna(typical) and v > typical
    )


def _text_recency(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    rec = r.get("recency_days")
    if rec is None or pd.isna(rec):
        return "no purchase yet"
    if not _above(r, ref, "recency_days"):
        return f"bought {_fmt(rec)} days ago"
    gap = r.get("mean_interpurchase_days")
    usual = f" (usually every {_fmt(gap)} days)" if gap is not None and pd.notna(gap) else ""
    return f"no purchase for {_fmt(rec)} days{usual}"


def _text_order_trend(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    now, before = r.get("orders_90d"), r.get("orders_prev_90d")
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return f"{_plural(r.get('orders_30d', 0), 'order')} in the last 30 days"
    detail = f"({_fmt(now)} vs {_fmt(before)} orders in the previous 90 days)"
    if now == 0 and before > 0:
        return f"no orders in the last 90 days ({_fmt(before)} in the 90 days before)"
    if now < before:
        return (
            f"order frequency halved {detail}" if now <= before / 2 else f"ordering less {detail}"
        )
    if now > before:
        return f"ordering more often {detail}"
    return f"{_plural(now, 'order')} in the last 90 days, same as before"


def _text_frequency(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    n = r.get("frequency")
    if n is None or pd.isna(n):
        return "few orders"
    return "only 1 order so far" if n == 1 else f"{_plural(n, 'order')} in total"


def _text_spend(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    for col, label in (("monetary", "total spend"), ("avg_order_value", "average order")):
        if col in r and pd.notna(r[col]):
            return f"{label} {_fmt(r[col])} (typical {_fmt(ref.get(col))})"
    return "spend " + ("below" if up else "above") + " typical"


def _text_visits(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    d = r.get("days_since_last_visit")
    if d is not None and pd.notna(d):
        if _above(r, ref, "days_since_last_visit"):
            return f"no visit for {_fmt(d)} days"
        return f"visited {_fmt(d)} days ago"
    now, before = r.get("sessions_30d"), r.get("sessions_prev_30d")
    if now is not None and before is not None and pd.notna(now) and pd.notna(before):
        trend = "down" if now < before else "up" if now > before else "flat"
        return f"visits {trend} ({_fmt(now)} vs {_fmt(before)} sessions in the previous 30 days)"
    if r.get("sessions_90d") is not None and pd.notna(r.get("sessions_90d")):
        return f"{_plural(r['sessions_90d'], 'visit')} in 90 days"
    return "no visits recorded"


def _text_browsing(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    views = r.get("product_views_90d")
    if views is not None and pd.notna(views):
        typical = _fmt(ref.get("product_views_90d"))
        return f"{_plural(views, 'product view')} in 90 days (typical {typical})"
    return "browsing " + ("down" if up else "up")


def _text_email(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    sends = r.get("email_sends_90d")
    if sends is not None and pd.notna(sends) and sends == 0:
        return "received no emails in 90 days"
    rate = r.get("email_open_rate")
    if rate is not None and pd.notna(rate):
        typical = _fmt(ref.get("email_open_rate"), pct=True)
        low = not _above(r, ref, "email_open_rate")
        verb = "email opens down" if low else "opens emails"
        return f"{verb} ({_fmt(rate, pct=True)} open rate, typical {typical})"
    return "few email opens" if up else "opens emails"


def _text_returns(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    if "return_rate" in r and pd.notna(r["return_rate"]):
        return f"returned {_fmt(r['return_rate'], pct=True)} of orders"
    return f"cancelled {_fmt(r.get('cancel_rate'), pct=True)} of orders"


def _text_discount(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    return f"{_fmt(r.get('discount_share'), pct=True)} of spend on discount"


def _text_tenure(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    return f"customer for {_fmt(r.get('tenure_days'))} days"


def _text_categories(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    n = r.get("distinct_categories")
    top = r.get("top_category")
    text = (
        f"buys in {_plural(n, 'category').replace('categorys', 'categories')}"
        if n is not None and pd.notna(n)
        else "category mix"
    )
    if top is not None and pd.notna(top):
        text += f", mostly {top}"
    return text


def _text_consent(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    v = r.get("marketing_consent")
    return (
        "no marketing consent"
        if v is not None and pd.notna(v) and v == 0
        else "marketing consent given"
    )


TEMPLATES: dict[str, Callable[[dict[str, Any], bool, dict[str, Any]], str]] = {
    "recency": _text_recency,
    "order_trend": _text_order_trend,
    "frequency": _text_frequency,
    "spend": _text_spend,
    "visits": _text_visits,
    "browsing": _text_browsing,
    "email": _text_email,
    "returns": _text_returns,
    "discount": _text_discount,
    "tenure": _text_tenure,
    "categories": _text_categories,
    "consent": _text_consent,
}


def _text_generic(col: str) -> Callable[[dict[str, Any], bool, dict[str, Any]], str]:
    label = col.replace("_", " ")

    def text(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
        v = r.get(col)
        if isinstance(v, str) or (v is not None and not isinstance(v, int | float | np.number)):
            return f"{label}: {v}"
        if v is None or pd.isna(v):
            return f"{label} unknown"
        return f"{label} {_fmt(v)} (typical {_fmt(ref.get(col))})"

    return text


def _reference(matrix: np.ndarray, n_numeric: int) -> np.ndarray:
    """The population reference per model column: median of numerics, most common code."""
    ref = np.full(matrix.shape[1], np.nan)
    for j in range(matrix.shape[1]):
        col = matrix[:, j]
        col = col[~np.isnan(col)]
        if col.size == 0:
            continue
        if j < n_numeric:
            ref[j] = float(np.median(col))
        else:
            values, counts = np.unique(col, return_counts=True)
            ref[j] = float(values[np.argmax(counts)])  # ties: the lowest (most frequent) code
    return ref


def explain(
    model: ChurnModel,
    prepared: pd.DataFrame,
    params: ChurnParams,
    matrix: np.ndarray | None = None,
    base: np.ndarray | None = None,
) -> pd.Series:
    """Top drivers per customer in words, from score changes when a feature group is reset.

    For each feature group, the customer's values are replaced by the population reference
    (median / most common category) and the score change is the group's contribution.
    Customers scored above the average get the groups that raise their risk most, the others
    the groups that lower it most. Works on the model matrix: one batch prediction per group.
    """
    if len(prepared) == 0:
        return pd.Series([], dtype=object)
    if matrix is None:
        matrix = model.matrix(prepared)
    if base is None:
        base = model.predict_matrix(matrix)
    position = {c: j for j, c in enumerate(model.spec.columns)}
    ref = _reference(matrix, len(model.spec.numeric))
    groups = {g: [position[c] for c in cols] for g, cols in _driver_groups(model.spec).items()}

    def delta(rows: np.ndarray | None, cols: list[int]) -> np.ndarray:
        reset = matrix.copy() if rows is None else matrix[rows]
        reset[:, cols] = ref[cols]
        scored = base if rows is None else base[rows]
        return scored - model.predict_matrix(reset)

    sample = np.sort(
        np.random.default_rng(params.seed).choice(
            len(matrix), size=min(len(matrix), params.driver_sample), replace=False
        )
    )
    importance = {g: float(np.abs(delta(sample, cols)).mean()) for g, cols in groups.items()}
    top = sorted(groups, key=lambda g: (-importance[g], g))[: params.driver_groups]
    deltas = np.column_stack([delta(None, groups[g]) for g in top])
    up = base >= base.mean()
    signed = np.where(up[:, None], deltas, -deltas)
    order = np.argsort(-signed, axis=1, kind="stable")[:, : params.n_drivers]
    members = _driver_groups(model.spec)
    text_cols = sorted({c for g in top for c in members[g]} | set(_TEXT_EXTRAS) & set(prepared))
    values = prepared.reindex(columns=text_cols)
    ref_text: dict[str, Any] = values.median(numeric_only=True).to_dict()
    for c in model.spec.numeric:
        ref_text[c] = ref[position[c]]
    categories = model.codes.categories_ if model.codes else []
    for c, cats in zip(model.spec.categorical, categories, strict=True):
        code = ref[position[c]]
        ref_text[c] = cats[int(code)] if not np.isnan(code) and int(code) < len(cats) else None
    renderers = [TEMPLATES.get(g, _text_generic(g)) for g in top]
    out = []
    for i, row in enumerate(values.to_dict("records")):
        parts = [renderers[j](row, bool(up[i]), ref_text) for j in order[i] if signed[i, j] > 0.001]
        out.append("; ".join(parts) if parts else "no single factor stands out")
    return pd.Series(out, index=prepared.index, dtype=object)


_TEXT_EXTRAS = (
    "recency_days",
    "mean_interpurchase_days",
    "orders_30d",
    "orders_90d",
    "orders_prev_90d",
    "frequency",
    "monetary",
    "avg_order_value",
    "days_since_last_visit",
    "sessions_30d",
    "sessions_prev_30d",
    "sessions_90d",
    "product_views_90d",
    "email_sends_90d",
    "email_open_rate",
    "return_rate",
    "cancel_rate",
    "discount_share",
    "tenure_days",
    "distinct_categories",
    "top_category",
    "marketing_consent",
)


def risk_band(prob: np.ndarray, bands: tuple[float, float]) -> np.ndarray:
    """low < bands[0] <= medium < bands[1] <= high."""
    low, high = bands
    return np.where(prob >= high, "high", np.where(prob >= low, "medium", "low"))


# --- main entry point --------------------------------------------------------------------


def _as_of(current: pd.DataFrame) -> pd.Timestamp | None:
    if "as_of_date" in current.columns and current["as_of_date"].notna().any():
        return _day(current["as_of_date"]).max()
    return None


def train_and_score_churn(
    history: pd.DataFrame,
    labels: pd.DataFrame,
    current: pd.DataFrame,
    params: ChurnParams | None = None,
    previous_drift_profile: dict[str, Any] | None = None,
    run_at: datetime | None = None,
) -> ChurnResult:
    """Train on history cutoffs, evaluate on the latest labelled window, score `current`."""
    params = params or ChurnParams()
    with threadpool_limits(limits=params.threads):
        return _train_and_score(history, labels, current, params, previous_drift_profile, run_at)


def _train_and_score(
    history: pd.DataFrame,
    labels: pd.DataFrame,
    current: pd.DataFrame,
    params: ChurnParams,
    previous_drift_profile: dict[str, Any] | None,
    run_at: datetime | None,
) -> ChurnResult:
    run_at = run_at or datetime.now(UTC)
    features.check_point_in_time(history)
    examples = build_examples(history, labels)
    as_of = _as_of(current)
    horizon = pd.Timedelta(days=params.horizon_days)
    if as_of is not None:
        examples = examples[examples["cutoff_date"] + horizon <= as_of]
    eligible = examples[examples["eligible"]].reset_index(drop=True)
    if eligible.empty:
        raise ValueError("no labelled customers with a purchase before any cutoff")
    train_cutoffs, eval_cutoff = time_split(
        list(eligible["cutoff_date"].unique()), params.horizon_days
    )

    # Held-out evaluation: model and baselines see only cutoffs whose labels end by eval_cutoff.
    metrics: dict[str, Any] = {}
    baseline_metrics: dict[str, Any] = {}
    holdout = pd.DataFrame()
    figures: dict[str, Figure] = {}
    eval_model = None
    if eval_cutoff is not None:
        train = eligible[eligible["cutoff_date"].isin(train_cutoffs)].reset_index(drop=True)
        test = eligible[eligible["cutoff_date"] == eval_cutoff].reset_index(drop=True)
        if train["churned"].nunique() == 2 and test["churned"].nunique() == 2:
            eval_model = fit_churn_model(train, params)
            y = test["churned"].to_numpy()
            scored = {"model": eval_model.predict(test)}
            for name, cols in BASELINES.items():
                base = fit_baseline(train, cols)
                if base is not None:
                    scored[name] = _predict_baseline(base, test)
            metrics = evaluation.classification_metrics(y, scored["model"])
            metrics["holdout_model"] = eval_model.info
            for name in BASELINES:
                if name in scored:
                    baseline_metrics[name] = evaluation.classification_metrics(y, scored[name])
            holdout_cols = ["customer_id", "cutoff_date", "churned"]
            holdout_cols += features.frame_columns(test, params.fairness_attributes)
            holdout = test[holdout_cols].copy()
            holdout["churn_probability"] = scored["model"]
            for name in BASELINES:
                if name in scored:
                    holdout[f"{name}_probability"] = scored[name]
            figures = {
                "churn_roc": plots.roc_with_baselines(y, scored),
                "churn_calibration": plots.calibration(y, scored),
                "churn_lift": plots.lift(y, scored),
            }

    # Final model on every labelled cutoff, scoring customer_360 as of its as-of date.
    final = fit_churn_model(eligible, params)
    cur = features.prepare(
        current.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    )
    buyer = features.is_purchaser(cur).to_numpy()
    prob = np.zeros(len(cur))
    buyer_matrix = final.matrix(cur[buyer])
    prob[buyer] = final.predict_matrix(buyer_matrix)
    prospects = examples[~examples["eligible"]]
    if len(prospects):
        prospect_rate = float(prospects["churned"].mean())
        prob[~buyer] = prospect_rate
        prospect_how = PROSPECT_RULE
    else:
        prospect_rate = None
        prob[~buyer] = final.predict(cur[~buyer]) if (~buyer).any() else prob[~buyer]
        prospect_how = "model (no labelled prospects)"
    drivers = pd.Series("no purchase yet", index=cur.index, dtype=object)
    if buyer.any():
        drivers[buyer] = explain(
            final, cur[buyer], params, matrix=buyer_matrix, base=prob[buyer]
        ).to_numpy()

    params_dict = asdict(params)
    window = {
        "as_of": as_of,
        "horizon_days": params.horizon_days,
        "train_cutoffs": [str(pd.Timestamp(c).date()) for c in train_cutoffs]
        if eval_cutoff is not None
        else [],
        "eval_cutoff": str(eval_cutoff.date()) if eval_cutoff is not None else None,
        "final_cutoffs": final.cutoffs,
        "n_train": int((eligible["cutoff_date"] != eval_cutoff).sum())
        if eval_cutoff is not None
        else 0,
        "n_eval": len(holdout),
        "n_final": len(eligible),
        "n_scored": len(cur),
        "eligibility": ELIGIBILITY,
    }
    version = evaluation.model_version(
        MODEL_NAME,
        params_dict,
        window,
        evaluation.code_version(sys.modules[__name__], features, evaluation),
    )
    scores = pd.DataFrame(
        {
            "customer_id": cur["customer_id"].to_numpy(),
            "churn_probability": prob,
            "risk_band": risk_band(prob, params.risk_bands),
            "top_drivers": drivers.to_numpy(),
            "horizon_days": params.horizon_days,
            "model_version": version,
            "scored_at": run_at,
            "scored_by": np.where(
                buyer, "model", "prospect_rule" if prospect_rate is not None else "model"
            ),
        }
    )

    attrs = features.frame_columns(cur, params.fairness_attributes)
    audit_frame = pd.concat([scores[["churn_probability"]], cur[attrs]], axis=1)
    fairness = evaluation.fairness_audit(
        audit_frame,
        attrs,
        positive_threshold=params.risk_bands[1],
        holdout=holdout if len(holdout) else None,
        gap_threshold=params.fairness_gap,
        auc_gap_threshold=params.fairness_auc_gap,
        min_group_size=params.fairness_min_group,
    )
    fairness["model_version"] = version
    fairness["scored_at"] = run_at

    drift_frame = final.spec.frame(cur)
    drift_frame["churn_probability"] = prob
    profile = evaluation.drift_profile(drift_frame, list(drift_frame.columns), params.psi_bins)
    drift = evaluation.feature_drift(previous_drift_profile, drift_frame, params.psi_warn)
    drift["model_version"] = version
    drift["scored_at"] = run_at

    metrics.update(
        {
            "calibration_split": final.calibration_split,
            **final.info,
            "prospect_rate": prospect_rate,
            "prospect_scoring": prospect_how,
            "risk_band_counts": scores["risk_band"].value_counts().sort_index().to_dict(),
            "fairness_flags": int(fairness["flagged"].sum()) if len(fairness) else 0,
            "drift_warnings": int((drift["status"] == "warn").sum()) if len(drift) else 0,
            "features": final.spec.columns,
        }
    )
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
                "drift_profile": evaluation.to_json(profile),
            }
        ]
    )
    return ChurnResult(
        scores=scores,
        run_record=run_record,
        fairness=fairness,
        drift=drift,
        drift_profile=profile,
        figures=figures,
        metrics=metrics,
        holdout=holdout,
        model=final,
    )
