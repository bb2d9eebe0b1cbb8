"""Pairwise precision / recall of identity stitching (the stitching itself is dbt SQL).

Every pair of identifiers (customer records, devices) that belongs to one true person is a
true pair; every pair the stitching puts under one person_id is a predicted pair.
precision = correct predicted pairs / predicted pairs, recall = correct / true pairs,
counted from the contingency table of (true person, predicted person) without listing pairs.
Identifiers the truth gives no person (shared devices) are left out of both.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

import ml.identity.evaluate as _self
from ml.runs import ModelRun, code_version, model_version


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(frame: pd.DataFrame, predicted: str, truth: str = "person") -> dict:
    """Pairwise precision, recall and F1 of column `predicted` against column `truth`
    (one row per identifier; a null prediction is a person of its own)."""
    known = frame[frame[truth].notna()].reset_index(drop=True)
    pred = (
        known[predicted]
        .astype("string")
        .fillna("__alone_" + pd.Series(known.index, dtype="string"))
    )
    cells = known.groupby([known[truth], pred]).size()
    correct = _pairs(cells)
    true_pairs = _pairs(known.groupby(truth).size())
    predicted_pairs = _pairs(pred.value_counts())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "identifiers": int(len(known)),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
    }


def stitching_run(frame: pd.DataFrame, params: dict, data_window: dict) -> ModelRun:
    """The ml.model_runs row of the stitching (column person_id) next to the baseline
    without stitching (column baseline_id: each customer record its own person, a device
    with the one record it logged in as)."""
    metrics = pairwise_scores(frame, "person_id")
    baseline = pairwise_scores(frame, "baseline_id")
    return ModelRun(
        model="identity",
        model_version=model_version("identity", params, data_window, code_version(_self)),
        trained_at=datetime.now(UTC),
        params=params,
        metrics=metrics,
        baseline_metrics=baseline,
        data_window=data_window,
    )
