"""Fixtures for the dbt project tests (helpers live in tests/dbt/helpers.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dbt.helpers import DbtProject, make_warehouse, synthetic_shop


@pytest.fixture
def dbt_factory(tmp_path: Path):
    """make(data) -> DbtProject on a fresh temp warehouse holding the given raw rows."""

    def make(data: dict[str, list[dict[str, Any]]], name: str = "wh") -> DbtProject:
        workdir = tmp_path / name
        workdir.mkdir()
        warehouse = make_warehouse(workdir / "segmint.duckdb", data)
        return DbtProject(warehouse=warehouse, workdir=workdir)

    return make


@pytest.fixture(scope="session")
def shop_data() -> dict[str, list[dict]]:
    return synthetic_shop()


@pytest.fixture(scope="session")
def built_shop(tmp_path_factory, shop_data) -> DbtProject:
    """The synthetic shop, built once (read-only use)."""
    workdir = tmp_path_factory.mktemp("built_shop")
    project = DbtProject(make_warehouse(workdir / "segmint.duckdb", shop_data), workdir)
    project.build()
    return project
