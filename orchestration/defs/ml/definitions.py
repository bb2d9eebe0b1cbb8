"""The ml domain: segmentation, churn (with its drift check), demand forecasts, product
recommendations, uplift and customer value."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ml.assets import ML_ASSETS
from orchestration.defs.ml.recommend import recommendations
from orchestration.defs.ml.uplift import UPLIFT_ASSETS
from orchestration.defs.ml.value import customer_value

defs = dg.Definitions(assets=[*ML_ASSETS, recommendations, *UPLIFT_ASSETS, customer_value])
