"""Customer-value run parameters and the columns every value module shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

MODEL_NAME = "customer_value"
# The horizons of ml.customer_value's columns (expected_purchases_90d, predicted_revenue_365d).
HORIZON_DAYS = 90
LONG_HORIZON_DAYS = 365

SCORE_COLUMNS = (
    "customer_id",
    "p_alive",
    "expected_purchases_90d",
    "expected_avg_order_value",
    "predicted_revenue_90d",
    "predicted_revenue_365d",
    "predicted_revenue_90d_lower",
    "predicted_revenue_90d_upper",
    "model_version",
    "scored_at",
)

# customer_value_inputs columns -> the library's names (rfm_summary conventions, days)
INPUT_COLUMNS = {
    "customer_id": "customer_id",
    "frequency": "frequency",
    "recency": "recency",
    "tenure_days": "T",
    "monetary_value": "monetary_value",
}


@dataclass(frozen=True)
class ValueParams:
    """How the value models are fitted and what they predict."""

    # "modified_beta_geo" (MBG/NBD) lets a customer drop out right after the first purchase;
    # BG/NBD ("beta_geo") cannot, so it gives p_alive = 1 to every one-time buyer however
    # long ago they bought (pymc_marketing.clv.BetaGeoModel.expected_probability_alive).
    transaction_model: Literal["modified_beta_geo", "beta_geo"] = "modified_beta_geo"
    interval: float = 0.8
    # Draws of the Laplace approximation around the MAP (parameter uncertainty -> intervals).
    draws: int = 100
    seed: int = 42
    deciles: int = 10

    def to_json_dict(self) -> dict[str, Any]:
        """The params as JSON-ready values (ml.model_runs.params)."""
        return asdict(self)
