"""The churn classifier: category codes -> gradient boosting -> a calibration map fitted on
rows the trees never saw (Platt sigmoid or isotonic on the raw score)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ml import features
from ml.churn.examples import both_classes, calibration_rows, customer_split, stratified_subsample
from ml.churn.params import ChurnParams


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


def fit_churn_model(examples: pd.DataFrame, params: ChurnParams) -> ChurnModel:
    """Fit gradient boosting on eligible, labelled examples and calibrate it on held-out rows.

    One tree model per call: the trees train on most customers (early stopping watches a
    grouped validation share of them), and a calibration map (Platt sigmoid or isotonic on
    the raw score) is fitted on the calibration rows the trees never saw.
    """
    y = examples["churned"].to_numpy()
    if not both_classes(y):
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
    cal, how = calibration_rows(examples, params)
    fit_rows, available = _tree_rows(examples, y, cal, how, params)
    train_rows, val_rows, early = _early_stopping_rows(examples, y, fit_rows, cal, params)
    model.gbm = _fit_gbm(
        matrix, y, train_rows, val_rows if early else None, len(spec.numeric), params
    )
    if how != "none":
        model.calibrator = _fit_calibrator(model.gbm.decision_function(matrix[cal]), y[cal], params)
    model.calibration_split = how
    model.info = {
        "training_rows_available": int(available),
        "training_rows": int(len(fit_rows)),
        "tree_rows": int(len(train_rows)),
        "early_stopping_rows": int(len(val_rows)) if early else 0,
        "calibration_rows": int(cal.sum()),
        "subsampled": bool(len(fit_rows) < available),
        "gbm_iterations": int(model.gbm.n_iter_),
    }
    return model


def _tree_rows(
    examples: pd.DataFrame, y: np.ndarray, cal: np.ndarray, how: str, params: ChurnParams
) -> tuple[np.ndarray, int]:
    """Rows the trees may learn from (capped by a stratified sample) and how many there were.

    With "time" calibration the trees see only rows whose label window ends by the
    calibration cutoff; otherwise every row outside the calibration customers.
    """
    if how == "time":
        horizon = np.timedelta64(params.horizon_days, "D")
        cut = examples["cutoff_date"].to_numpy()
        fit_rows = np.flatnonzero(cut + horizon <= cut[cal].max())
    else:
        fit_rows = np.flatnonzero(~cal)
    available = len(fit_rows)
    if available > params.max_train_rows:
        strata = examples["cutoff_date"].astype(str).to_numpy()[fit_rows] + y[fit_rows].astype(str)
        fit_rows = fit_rows[stratified_subsample(strata, params.max_train_rows, params.seed)]
    return fit_rows, available


def _early_stopping_rows(
    examples: pd.DataFrame,
    y: np.ndarray,
    fit_rows: np.ndarray,
    cal: np.ndarray,
    params: ChurnParams,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Tree-training rows, the rows early stopping watches, and whether it can stop early."""
    if params.early_stopping == "separate":
        val = customer_split(
            examples["customer_id"].iloc[fit_rows], params.validation_fraction, params.seed + 1
        )
        train_rows, val_rows = fit_rows[~val], fit_rows[val]
    else:
        train_rows, val_rows = fit_rows, np.flatnonzero(cal)
    early = bool(len(val_rows) and both_classes(y[val_rows]) and both_classes(y[train_rows]))
    return (train_rows if early else fit_rows), val_rows, early


def _fit_gbm(
    matrix: np.ndarray,
    y: np.ndarray,
    train_rows: np.ndarray,
    val_rows: np.ndarray | None,
    n_numeric: int,
    params: ChurnParams,
) -> HistGradientBoostingClassifier:
    """Gradient boosting with native categorical splits; early-stopped on val_rows if given."""
    mask = np.zeros(matrix.shape[1], dtype=bool)
    mask[n_numeric:] = True
    gbm = HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        categorical_features=mask if mask.any() else None,
        early_stopping=val_rows is not None,
        n_iter_no_change=params.n_iter_no_change,
        random_state=params.seed,
    )
    if val_rows is None:
        return gbm.fit(matrix[train_rows], y[train_rows])
    return gbm.fit(matrix[train_rows], y[train_rows], X_val=matrix[val_rows], y_val=y[val_rows])


def _fit_calibrator(
    raw: np.ndarray, y: np.ndarray, params: ChurnParams
) -> LogisticRegression | IsotonicRegression:
    """The map from raw tree scores to probabilities, fitted on the calibration rows."""
    if params.calibration == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    return LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
