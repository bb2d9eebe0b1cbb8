"""The activation domain: one asset per valid audience file, the export state, and the
holdout readout (dbt) after all of them. The readout is there without audiences too: its
table exists (empty) before any export."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtProject

from orchestration.defs.activation.assets import STATE_SPECS, audience_asset, readout
from segmint.activation import validate_audiences
from segmint.settings import Settings


def defs(settings: Settings, project: DbtProject) -> dg.Definitions:
    folder = settings.audiences.resolve()
    audiences = validate_audiences(folder)[0] if folder.is_dir() else []
    exports = [audience_asset(a, folder) for a in audiences]
    return dg.Definitions(
        assets=[*exports, *STATE_SPECS, readout(project, [a.key for a in exports])]
    )
