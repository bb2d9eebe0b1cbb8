"""Quality gates as asset checks (Great Expectations suites; ERROR blocks publish)."""

from __future__ import annotations

import dagster as dg

QUALITY_CHECKS: list[dg.AssetChecksDefinition] = []
