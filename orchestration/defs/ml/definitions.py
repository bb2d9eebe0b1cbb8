"""The ml domain: segmentation, churn (with its drift check), demand forecasts, customer value."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ml.assets import ML_ASSETS
from orchestration.defs.ml.value import customer_value

defs = dg.Definitions(assets=[*ML_ASSETS, customer_value])
