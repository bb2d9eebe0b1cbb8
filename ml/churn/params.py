"""Churn run parameters and the definitions every churn module shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ml import features

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
