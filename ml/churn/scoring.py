"""Scoring today's customers: the final model for purchasers, a rule for prospects, drivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from ml import features
from ml.churn.drivers import explain
from ml.churn.model import ChurnModel
from ml.churn.params import PROSPECT_RULE, ChurnParams


def risk_band(prob: np.ndarray, bands: tuple[float, float]) -> np.ndarray:
    """low < bands[0] <= medium < bands[1] <= high."""
    low, high = bands
    return np.where(prob >= high, "high", np.where(prob >= low, "medium", "low"))


@dataclass
class CurrentScores:
    """Churn probability and drivers of every current customer (sorted by customer_id)."""

    customers: pd.DataFrame  # prepared customer_360 rows
    probability: np.ndarray
    by_model: np.ndarray  # True: purchaser scored by the model; False: prospect
    drivers: np.ndarray
    prospect_rate: float | None  # None: prospects scored by the model
    prospect_scoring: str

    def table(self, params: ChurnParams, version: str, run_at: datetime) -> pd.DataFrame:
        """Rows of ml.churn_scores."""
        prob = self.probability
        rule = "prospect_rule" if self.prospect_rate is not None else "model"
        return pd.DataFrame(
            {
                "customer_id": self.customers["customer_id"].to_numpy(),
                "churn_probability": prob,
                "risk_band": risk_band(prob, params.risk_bands),
                "top_drivers": self.drivers,
                "horizon_days": params.horizon_days,
                "model_version": version,
                "scored_at": run_at,
                "scored_by": np.where(self.by_model, "model", rule),
            }
        )


def prospect_rate(examples: pd.DataFrame) -> float | None:
    """The observed share of labelled prospects who stayed without a purchase (None: none)."""
    prospects = examples[~examples["eligible"]]
    return float(prospects["churned"].mean()) if len(prospects) else None


def score_current(
    final: ChurnModel, current: pd.DataFrame, rate: float | None, params: ChurnParams
) -> CurrentScores:
    """Score customer_360 as of its as-of date.

    Prospects (no purchase yet) get the observed share of labelled prospects who stayed
    without a purchase, or the model's score when no prospect was ever labelled.
    """
    cur = features.prepare(
        current.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    )
    buyer = features.is_purchaser(cur).to_numpy()
    prob = np.zeros(len(cur))
    buyer_matrix = final.matrix(cur[buyer])
    prob[buyer] = final.predict_matrix(buyer_matrix)
    if rate is not None:
        prob[~buyer] = rate
        prospect_how = PROSPECT_RULE
    else:
        prob[~buyer] = final.predict(cur[~buyer]) if (~buyer).any() else prob[~buyer]
        prospect_how = "model (no labelled prospects)"
    drivers = pd.Series("no purchase yet", index=cur.index, dtype=object)
    if buyer.any():
        drivers[buyer] = explain(
            final, cur[buyer], params, matrix=buyer_matrix, base=prob[buyer]
        ).to_numpy()
    return CurrentScores(cur, prob, buyer, drivers.to_numpy(), rate, prospect_how)
