"""Time-split evaluation of predicted revenue: MAE, Spearman, top-decile capture, calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def run_rate(inputs: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """The baseline: past revenue per day of tenure (first purchase day to cutoff, inclusive)
    times the horizon."""
    revenue = pd.to_numeric(inputs["revenue_to_date"]).to_numpy(float)
    tenure = pd.to_numeric(inputs["tenure_days"]).to_numpy(float) + 1.0
    return revenue / tenure * horizon_days


def top_decile_capture(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Share of the window's revenue bought by the 10% of customers predicted highest."""
    total = float(actual.sum())
    if total <= 0 or len(actual) == 0:
        return None
    k = max(1, int(np.ceil(len(actual) / 10)))
    order = np.argsort(-predicted, kind="stable")
    return float(actual[order[:k]].sum() / total)


def revenue_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """MAE, Spearman rank correlation and top-decile capture of one set of predictions."""
    rho = spearmanr(predicted, actual).statistic if len(actual) > 2 else float("nan")
    return {
        "mae": float(np.mean(np.abs(predicted - actual))),
        "spearman": None if not np.isfinite(rho) else float(rho),
        "top_decile_capture": top_decile_capture(actual, predicted),
        "mean_predicted": float(predicted.mean()),
        "mean_actual": float(actual.mean()),
    }


def calibration_by_decile(
    actual: np.ndarray, predictions: dict[str, np.ndarray], deciles: int = 10
) -> pd.DataFrame:
    """Mean predicted vs mean actual window revenue per decile of each prediction.

    Rows: (model, decile, customers, mean_predicted, mean_actual); decile 1 = highest.
    """
    rows = []
    for name, predicted in predictions.items():
        ranks = pd.Series(-predicted).rank(method="first").to_numpy()
        bins = np.ceil(ranks * deciles / len(ranks)).astype(int)
        for decile in range(1, deciles + 1):
            mask = bins == decile
            if mask.any():
                rows.append(
                    {
                        "model": name,
                        "decile": decile,
                        "customers": int(mask.sum()),
                        "mean_predicted": float(predicted[mask].mean()),
                        "mean_actual": float(actual[mask].mean()),
                    }
                )
    return pd.DataFrame(
        rows, columns=["model", "decile", "customers", "mean_predicted", "mean_actual"]
    )


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of customers whose real window revenue fell inside their interval."""
    return float(np.mean((actual >= lower) & (actual <= upper)))
