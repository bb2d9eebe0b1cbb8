"""The quality domain: Great Expectations suites as blocking asset checks.

dbt's own tests (generic and the reconciliation singular tests) are asset checks of the
transform domain: dagster-dbt attaches them to their models.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.quality.checks import QUALITY_CHECKS

defs = dg.Definitions(asset_checks=QUALITY_CHECKS)
