"""ML assets: segments, churn scores and demand forecasts written back to ml.* (wired per model)."""

from __future__ import annotations

import dagster as dg

ML_ASSETS: list[dg.AssetsDefinition] = []
