"""The ml domain: segmentation, churn (with its drift check), demand forecasts, product
recommendations and uplift."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ml.assets import ML_ASSETS
from orchestration.defs.ml.recommend import recommendations
from orchestration.defs.ml.uplift import UPLIFT_ASSETS

defs = dg.Definitions(assets=[*ML_ASSETS, recommendations, *UPLIFT_ASSETS])
