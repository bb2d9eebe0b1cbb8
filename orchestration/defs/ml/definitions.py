"""The ml domain: segmentation, churn (with its drift check), demand forecasts and product
recommendations."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ml.assets import ML_ASSETS
from orchestration.defs.ml.recommend import recommendations

defs = dg.Definitions(assets=[*ML_ASSETS, recommendations])
