"""The ml domain: segmentation, churn (with its drift check) and demand forecasts."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ml.assets import ML_ASSETS

defs = dg.Definitions(assets=ML_ASSETS)
