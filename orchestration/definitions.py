"""The Dagster code location `segmint`: the per-domain definitions, merged.

Each domain under orchestration/defs/ exports its own `defs`; shared wiring (resources,
dbt project, io) lives in orchestration/lib/. The dbt manifest is prepared before this
module loads (`segmint ui` / `segmint run`); loading never runs dbt.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.activation import definitions as activation
from orchestration.defs.ingest import definitions as ingest
from orchestration.defs.ml import definitions as ml
from orchestration.defs.publish import definitions as publish
from orchestration.defs.quality import definitions as quality
from orchestration.defs.transform import definitions as transform
from orchestration.lib.dbt_project import dbt_project
from orchestration.lib.location import shared_defs, with_owners
from segmint.settings import Settings, get_settings

LOCATION_NAME = "segmint"


def build_definitions(
    settings: Settings, extra_checks: list[dg.AssetChecksDefinition] | None = None
) -> dg.Definitions:
    """The whole code location for these settings (extra_checks: added asset checks)."""
    project = dbt_project(settings)
    domains = dg.Definitions.merge(
        ingest.defs(settings),
        transform.defs(project),
        ml.defs,
        activation.defs(settings, project),
        quality.defs,
        dg.Definitions(asset_checks=extra_checks or []),
    )
    merged = dg.Definitions.merge(domains, publish.defs(domains), shared_defs(settings, project))
    return with_owners(merged, settings)


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` / `dagster definitions validate` load (settings: yaml + env)."""
    return build_definitions(get_settings())
