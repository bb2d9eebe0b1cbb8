"""Product recommendations per customer: buy again, discover, popular (cold start).

Public API::

    recommend(interactions, groups, params=RecommendParams(), run_at=None)
        -> RecommendResult(recommendations, run, evaluation, catalogue)
    customer_groups(customer_360, customer_segments) -> groups

`interactions` is marts.customer_product_interactions (both cutoffs); `groups` holds each
customer's segment, country and acquisition channel (cold-start popularity). Modules:
params, data (mart -> matrix and catalogue), collaborative (implicit ALS + content),
candidates (buy again, popular), compose (one list per customer, reasons), evaluation
(time split vs baselines), run. Figures: ml.plots.recommend.
"""

from ml.recommend.data import customer_groups
from ml.recommend.params import KINDS, MODEL_NAME, OUTPUT_COLUMNS, RecommendParams
from ml.recommend.run import RecommendResult, recommend

__all__ = [
    "KINDS",
    "MODEL_NAME",
    "OUTPUT_COLUMNS",
    "RecommendParams",
    "RecommendResult",
    "customer_groups",
    "recommend",
]
