"""Customer-level feature handling shared by segmentation and churn.

Everything here works on customer_360-shaped pandas frames (one row per customer, or per
customer and cutoff for marts.customer_360_history). Columns adapt to the data: a column
that is entirely null (its source table is missing) is dropped, category-mix columns are
found by the ``cat_share_`` prefix, and category values are never hard-coded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# Keys and timestamps: never model inputs (timestamps are absolute dates, the relative
# versions such as recency_days and tenure_days are the features).
ID_COLUMNS = (
    "customer_id",
    "customer_key",
    "person_id",
    "is_primary_record",
    "as_of_date",
    "cutoff_date",
)
DATE_COLUMNS = ("signup_at", "first_order_at", "last_order_at")
# Targets and bookkeeping added next to the features; never model inputs.
LABEL_COLUMNS = ("churned", "eligible")
# Free-text-like or purely derived labels that add nothing a model can use well.
EXCLUDED_COLUMNS = ("city", "rfm_class")
CATEGORY_SHARE_PREFIX = "cat_share_"
# Attributes used to audit fairness (and as features when present).
PROTECTED_COLUMNS = ("gender", "age_band", "country")

# Counts and amounts where null means "none" once the source exists (a customer with no
# orders has frequency 0, a customer with no events has 0 sessions).
ZERO_WHEN_MISSING = (
    "frequency",
    "monetary",
    "orders_30d",
    "orders_90d",
    "orders_prev_90d",
    "revenue_90d",
    "revenue_prev_90d",
    "historical_clv",
    "distinct_categories",
    "sessions_7d",
    "sessions_30d",
    "sessions_90d",
    "sessions_prev_30d",
    "product_views_90d",
    "cart_adds_90d",
    "email_sends_90d",
    "email_opens_90d",
    "email_clicks_90d",
)

# Feature groups used to pick segmentation inputs and to phrase churn drivers.
VALUE_COLUMNS = ("monetary", "avg_order_value", "historical_clv", "revenue_90d")
RFM_COLUMNS = ("recency_days", "frequency", "monetary", "avg_order_value")
# Clustering inputs: recency/frequency/value, engagement, discount affinity (+ category mix
# and channel, found in the data). Kept compact: every extra noisy dimension blurs clusters.
SEGMENT_NUMERIC = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "discount_share",
    "sessions_90d",
    "days_since_last_visit",
    "email_open_rate",
)
# Described per segment (profiles, names) but not clustered on.
PROFILE_NUMERIC = (
    *SEGMENT_NUMERIC,
    "orders_90d",
    "mean_interpurchase_days",
    "return_rate",
    "tenure_days",
    "distinct_categories",
    "product_views_90d",
    "email_click_rate",
    "historical_clv",
)
SEGMENT_CATEGORICAL = ("preferred_channel",)
CHURN_CATEGORICAL = (
    "gender",
    "age_band",
    "country",
    "acquisition_channel",
    "preferred_channel",
    "top_category",
)


class LeakageError(ValueError):
    """A feature row carries information from after its cutoff date."""


def category_share_columns(frame: pd.DataFrame) -> list[str]:
    """Category-mix columns (``cat_share_*``) present in the frame, sorted."""
    return sorted(c for c in frame.columns if c.startswith(CATEGORY_SHARE_PREFIX))


def non_null_columns(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """The given columns that exist in the frame and hold at least one value."""
    return [c for c in columns if c in frame.columns and frame[c].notna().any()]


def is_purchaser(frame: pd.DataFrame) -> pd.Series:
    """True for customers with at least one completed order before their as-of/cutoff date."""
    if "frequency" in frame.columns and frame["frequency"].notna().any():
        return frame["frequency"].fillna(0).astype(float) >= 1
    if "last_order_at" in frame.columns:
        return frame["last_order_at"].notna()
    return frame["recency_days"].notna()


def _numeric(series: pd.Series) -> pd.Series:
    values = series.dropna()
    if series.dtype == object and values.map(type).isin([bool, np.bool_]).all():
        return series.map(lambda v: np.nan if v is None or pd.isna(v) else float(v))
    return pd.to_numeric(series, errors="coerce").astype("float64")


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise types, fill 'none' counts with 0 and add derived trend/overdue features."""
    out = frame.copy()
    for col in out.columns:
        if col in ID_COLUMNS or col in DATE_COLUMNS:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64")
        elif col == "marketing_consent":
            out[col] = _numeric(s)
    zero_cols = [*ZERO_WHEN_MISSING, *category_share_columns(out)]
    for col in non_null_columns(out, zero_cols):
        out[col] = out[col].fillna(0.0)
    has = set(non_null_columns(out, out.columns))
    if {"orders_90d", "orders_prev_90d"} <= has:
        out["order_trend"] = np.log((out["orders_90d"] + 1.0) / (out["orders_prev_90d"] + 1.0))
    if {"revenue_90d", "revenue_prev_90d"} <= has:
        out["revenue_trend"] = np.log((out["revenue_90d"] + 1.0) / (out["revenue_prev_90d"] + 1.0))
    if {"recency_days", "mean_interpurchase_days"} <= has:
        gap = out["mean_interpurchase_days"].where(out["mean_interpurchase_days"] > 0)
        out["overdue_ratio"] = out["recency_days"] / gap
    if {"sessions_30d", "sessions_prev_30d"} <= has:
        out["session_trend"] = np.log(
            (out["sessions_30d"] + 1.0) / (out["sessions_prev_30d"] + 1.0)
        )
    return out


@dataclass(frozen=True)
class FeatureSpec:
    """The numeric and categorical input columns of a model, chosen from the data."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        """All input columns, numeric first."""
        return [*self.numeric, *self.categorical]

    def frame(self, prepared: pd.DataFrame) -> pd.DataFrame:
        """The model input frame: spec columns in order, missing ones as null."""
        out = pd.DataFrame(index=prepared.index)
        for col in self.numeric:
            out[col] = prepared[col].astype("float64") if col in prepared else np.nan
        for col in self.categorical:
            if col in prepared:
                values = prepared[col].astype("object")
                out[col] = values.where(values.notna(), None).astype("object")
            else:
                out[col] = None
        return out


def _usable(frame: pd.DataFrame, col: str) -> bool:
    s = frame[col]
    return bool(s.notna().any()) and s.dropna().nunique() > 1


def churn_feature_spec(prepared: pd.DataFrame) -> FeatureSpec:
    """All usable customer_360 columns: numeric ones plus the known categorical ones."""
    skip = {*ID_COLUMNS, *DATE_COLUMNS, *EXCLUDED_COLUMNS, *LABEL_COLUMNS}
    categorical = tuple(c for c in CHURN_CATEGORICAL if c in prepared and _usable(prepared, c))
    numeric = tuple(
        c
        for c in prepared.columns
        if c not in skip
        and c not in categorical
        and pd.api.types.is_numeric_dtype(prepared[c])
        and _usable(prepared, c)
    )
    return FeatureSpec(numeric=numeric, categorical=categorical)


def segmentation_feature_spec(prepared: pd.DataFrame) -> FeatureSpec:
    """RFM, engagement, category mix and channel columns that hold data."""
    wanted = [*SEGMENT_NUMERIC, *category_share_columns(prepared)]
    numeric = tuple(c for c in wanted if c in prepared and _usable(prepared, c))
    categorical = tuple(c for c in SEGMENT_CATEGORICAL if c in prepared and _usable(prepared, c))
    return FeatureSpec(numeric=numeric, categorical=categorical)


class Log1pSkewed(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """log1p-transform non-negative columns whose skewness exceeds a threshold."""

    def __init__(self, skew_threshold: float = 1.0) -> None:
        self.skew_threshold = skew_threshold

    def fit(self, X: np.ndarray, y: object = None) -> Log1pSkewed:
        """Learn which columns are skewed, non-negative amounts."""
        arr = np.asarray(X, dtype="float64")
        self.n_features_in_ = arr.shape[1]
        mask = []
        for j in range(arr.shape[1]):
            col = arr[:, j]
            col = col[~np.isnan(col)]
            if col.size < 3 or col.min() < 0 or col.std() == 0:
                mask.append(False)
                continue
            skew = float(((col - col.mean()) ** 3).mean() / col.std() ** 3)
            mask.append(skew > self.skew_threshold)
        self.log_mask_ = np.array(mask, dtype=bool)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply log1p to the columns chosen at fit (negative values clipped to 0)."""
        arr = np.array(X, dtype="float64", copy=True)
        arr[:, self.log_mask_] = np.log1p(np.clip(arr[:, self.log_mask_], 0, None))
        return arr


def drop_correlated(
    values: np.ndarray, columns: Sequence[str], threshold: float
) -> tuple[list[str], dict[str, dict[str, float | str]]]:
    """Greedy near-duplicate removal: keep columns in order unless |r| >= threshold with a kept one.

    `values` holds the columns as they will be clustered (imputed, log-transformed where
    skewed), one column per name. Two near-duplicates (monetary = frequency x order value in
    log space, visits in 90 days vs days since the last visit) would count one aspect twice
    in a distance-based model; the column listed first is kept. Returns the kept columns and,
    per dropped column, the kept column it duplicates and their correlation.
    """
    arr = np.asarray(values, dtype="float64")
    kept: list[int] = []
    dropped: dict[str, dict[str, float | str]] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(arr, rowvar=False) if arr.shape[1] > 1 else np.ones((1, 1))
    corr = np.atleast_2d(corr)
    for j, name in enumerate(columns):
        twins = [(abs(corr[j, k]), k) for k in kept if np.isfinite(corr[j, k])]
        worst = max(twins, default=(0.0, -1))
        if worst[0] >= threshold:
            dropped[name] = {"duplicates": columns[worst[1]], "abs_corr": round(float(worst[0]), 4)}
        else:
            kept.append(j)
    return [columns[j] for j in kept], dropped


def segmentation_preprocessor(spec: FeatureSpec, min_frequency: float = 0.01) -> ColumnTransformer:
    """Impute, log-transform skewed amounts and scale numerics; one-hot encode categoricals."""
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("log", Log1pSkewed()),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="unknown")),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="ignore", min_frequency=min_frequency, sparse_output=False
                ),
            ),
        ]
    )
    parts: list[tuple[str, object, list[str]]] = [("num", numeric, list(spec.numeric))]
    if spec.categorical:
        parts.append(("cat", categorical, list(spec.categorical)))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Encode categorical columns as float codes for trees with native categorical splits.

    Per column, the frequent values (share >= min_frequency, at most max_categories, most
    frequent first, ties by name) get codes 0..m-1, every other value (rare or unseen at fit)
    gets code m ("other") and null stays NaN (missing). One column in, one column out, so a
    feature keeps a single position in the model matrix (cheap to fit and to explain).
    """

    def __init__(self, min_frequency: float = 0.01, max_categories: int = 30) -> None:
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: object = None) -> CategoryCodes:
        """Learn the frequent categories of each column."""
        frame = pd.DataFrame(X)
        self.n_features_in_ = frame.shape[1]
        self.categories_: list[list[str]] = []
        floor = self.min_frequency * len(frame)
        for col in frame.columns:
            counts = frame[col].dropna().astype(str).value_counts()
            kept = [(int(n), str(c)) for c, n in counts.items() if n >= floor]
            ordered = [c for _, c in sorted(kept, key=lambda t: (-t[0], t[1]))]
            self.categories_.append(ordered[: self.max_categories])
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Float codes: known categories 0..m-1, other values m, null NaN."""
        frame = pd.DataFrame(X)
        out = np.full(frame.shape, np.nan)
        for j, col in enumerate(frame.columns):
            values = frame[col]
            present = values.notna().to_numpy()
            cats = self.categories_[j]
            codes = pd.Categorical(values[present].astype(str), categories=cats).codes
            out[present, j] = np.where(codes < 0, len(cats), codes)
        return out


def check_point_in_time(history: pd.DataFrame, tolerance_days: int = 1) -> None:
    """Raise LeakageError when a history row shows data from after its cutoff_date."""
    if "cutoff_date" not in history.columns:
        raise LeakageError("history has no cutoff_date column")
    cutoff = pd.to_datetime(history["cutoff_date"])
    cutoff_end = cutoff.dt.normalize() + pd.Timedelta(days=1)
    problems: list[str] = []
    for col in ("first_order_at", "last_order_at"):
        if col in history.columns:
            ts = pd.to_datetime(history[col], utc=True).dt.tz_localize(None)
            bad = ts.notna() & (ts >= cutoff_end)
            if bad.any():
                problems.append(f"{int(bad.sum())} rows with {col} after cutoff_date")
    for col in ("recency_days", "days_since_last_visit", "tenure_days"):
        if col in history.columns:
            bad = pd.to_numeric(history[col], errors="coerce") < -tolerance_days
            if col == "tenure_days":
                # Customers who sign up after a cutoff may be listed with no orders yet; a
                # negative tenure only leaks when the row also carries purchases.
                bad &= is_purchaser(history)
            if bad.any():
                problems.append(f"{int(bad.sum())} rows with negative {col}")
    if {"recency_days", "last_order_at"} <= set(history.columns):
        last = pd.to_datetime(history["last_order_at"], utc=True).dt.tz_localize(None)
        expected = (cutoff.dt.normalize() - last.dt.normalize()).dt.days
        rec = pd.to_numeric(history["recency_days"], errors="coerce")
        bad = rec.notna() & expected.notna() & ((rec - expected).abs() > tolerance_days)
        if bad.any():
            problems.append(
                f"{int(bad.sum())} rows whose recency_days is not measured from cutoff_date"
            )
    if problems:
        raise LeakageError("features computed after their cutoff: " + "; ".join(problems))


def frame_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The subset of columns present in the frame, in the given order."""
    return [c for c in columns if c in frame.columns]
