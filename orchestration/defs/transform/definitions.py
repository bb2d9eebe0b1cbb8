"""The transform domain: the dbt project's models, snapshot, seeds and their tests."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtProject

from orchestration.defs.transform.assets import build_dbt_models, build_dbt_targeting


def defs(project: DbtProject) -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models(project), build_dbt_targeting(project)])
