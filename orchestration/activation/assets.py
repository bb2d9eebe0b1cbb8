"""Activation assets: one per audience, downstream of customer_targeting."""

from __future__ import annotations

import dagster as dg

ACTIVATION_ASSETS: list[dg.AssetsDefinition] = []
