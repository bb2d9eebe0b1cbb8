"""The Dagster code location: merges the per-domain definitions of segmint."""

from __future__ import annotations

import dagster as dg

from orchestration.build import build_definitions
from segmint.settings import get_settings

defs: dg.Definitions = build_definitions(get_settings())
