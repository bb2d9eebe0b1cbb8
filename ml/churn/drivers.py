"""Top churn drivers per customer: score changes when a feature group is reset to typical.

Works on the model matrix: one batch prediction per feature group, not one per customer;
the phrases come from ml.churn.wording.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ml import features
from ml.churn.model import ChurnModel
from ml.churn.params import ChurnParams
from ml.churn.wording import TEMPLATES, generic_text

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


# Columns the phrases may mention besides the top groups' own.
TEXT_EXTRAS = (
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


def driver_groups(spec: features.FeatureSpec) -> dict[str, list[str]]:
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


def reference(matrix: np.ndarray, n_numeric: int) -> np.ndarray:
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
    ref = reference(matrix, len(model.spec.numeric))
    groups = {g: [position[c] for c in cols] for g, cols in driver_groups(model.spec).items()}

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
    members = driver_groups(model.spec)
    text_cols = sorted({c for g in top for c in members[g]} | set(TEXT_EXTRAS) & set(prepared))
    values = prepared.reindex(columns=text_cols)
    ref_text: dict[str, Any] = values.median(numeric_only=True).to_dict()
    for c in model.spec.numeric:
        ref_text[c] = ref[position[c]]
    categories = model.codes.categories_ if model.codes else []
    for c, cats in zip(model.spec.categorical, categories, strict=True):
        code = ref[position[c]]
        ref_text[c] = cats[int(code)] if not np.isnan(code) and int(code) < len(cats) else None
    renderers = [TEMPLATES.get(g, generic_text(g)) for g in top]
    out = []
    for i, row in enumerate(values.to_dict("records")):
        parts = [renderers[j](row, bool(up[i]), ref_text) for j in order[i] if signed[i, j] > 0.001]
        out.append("; ".join(parts) if parts else "no single factor stands out")
    return pd.Series(out, index=prepared.index, dtype=object)
