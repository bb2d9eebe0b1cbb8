"""What the whole code location shares: resources, the in-process executor, asset owners."""

from __future__ import annotations

import re
import warnings

import dagster as dg
from dagster_dbt import DbtProject

from orchestration.lib.dbt_project import dbt_resource
from orchestration.lib.resources import ModelsResource, WarehouseResource
from segmint.errors import SegmintError
from segmint.settings import Settings

OWNER = re.compile(r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def shared_defs(settings: Settings, project: DbtProject) -> dg.Definitions:
    """The resources every domain's assets take, and the executor (one process, in order)."""
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "dbt": dbt_resource(project),
            "models": ModelsResource.from_settings(settings),
        },
        executor=dg.in_process_executor,
    )


def owners(settings: Settings) -> list[str]:
    """The `owners` setting as Dagster owners (`team:name` or an email), checked."""
    found = [o.strip() for o in settings.owners.split(",") if o.strip()]
    bad = [o for o in found if not OWNER.match(o)]
    if bad:
        raise SegmintError(
            f"setting owners: {', '.join(bad)} is not 'team:<name>' or an email address"
        )
    return found


def with_owners(defs: dg.Definitions, settings: Settings) -> dg.Definitions:
    """Every asset of `defs` owned by the `owners` setting."""
    names = owners(settings)
    if not names:
        return defs
    # map_asset_specs is marked preview; dagster is pinned exactly, and the tests assert the
    # owners of every asset, so a change of behaviour shows up on upgrade.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_asset_specs(func=lambda spec: spec.replace_attributes(owners=names))
