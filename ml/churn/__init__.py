"""Churn scoring: point-in-time training on history cutoffs, calibrated gradient boosting.

Definition: a customer churns at cutoff c when they make no completed purchase in
(c, c + horizon_days]. Labels come from the dbt mart `marts.churn_labels` (columns
customer_id, cutoff_date, churned).

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

Modules: params, examples (labelled rows and splits), model (fit with calibration),
baselines, holdout (evaluation), wording + drivers (explanations in words), scoring, run.
Figures: ml.plots.churn.

Public API::

    train_and_score_churn(history, labels, current, params=ChurnParams(),
                          previous_drift_profile=None, run_at=None) -> ChurnResult
"""

from ml.churn.drivers import explain
from ml.churn.examples import build_examples, time_split
from ml.churn.model import ChurnModel, fit_churn_model
from ml.churn.params import MODEL_NAME, ChurnParams
from ml.churn.run import ChurnResult, train_and_score_churn
from ml.churn.scoring import risk_band

__all__ = [
    "MODEL_NAME",
    "ChurnModel",
    "ChurnParams",
    "ChurnResult",
    "build_examples",
    "explain",
    "fit_churn_model",
    "risk_band",
    "time_split",
    "train_and_score_churn",
]
