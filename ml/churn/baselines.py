"""Churn baselines: logistic regression on recency alone and on RFM, same examples as the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ml import features

BASELINES: dict[str, list[str]] = {
    "recency": ["recency_days"],
    "rfm_logistic": ["recency_days", "frequency", "monetary"],
}


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


def predict_baseline(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """Churn probability of a fitted baseline (columns missing from frame count as null)."""
    cols = model.columns_  # type: ignore[attr-defined]
    x = pd.DataFrame({c: frame.get(c, np.nan) for c in cols}).astype(float)
    return model.predict_proba(x)[:, 1]
