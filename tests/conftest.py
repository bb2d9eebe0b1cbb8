"""Shared fixtures: small generated landing data and settings pointing into a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segmint.settings import Settings

# Small but complete: every table, a little dirt, enough history for yearly seasonality.
SAMPLE = {"customers": 400, "days": 500, "seed": 7, "dirt_rate": 0.01}

# Keep the models quick in tests; the benchmarks run them at full size.
TEST_ENV = {
    "SEGMINT_FORECAST_LEVELS": "total,category",
    "SEGMINT_FORECAST_BACKTEST_CUTOFFS": "1",
    "SEGMINT_FORECAST_HORIZON_DAYS": "28",
    "SEGMINT_SEGMENT_BOOTSTRAP": "3",
}


@pytest.fixture(scope="session", autouse=True)
def _test_env() -> None:
    old = {k: os.environ.get(k) for k in TEST_ENV}
    os.environ.update(TEST_ENV)
    os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing folder of generated CSV data (session-wide, read-only for tests)."""
    from segmint.generate import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, **SAMPLE)
    return out


def make_settings(root: Path, landing: Path, **extra) -> Settings:
    """Settings whose every path lives under `root`."""
    return Settings(
        warehouse=root / "warehouse" / "segmint.duckdb",
        landing=landing,
        exports=root / "exports",
        audiences=Path(__file__).resolve().parents[1] / "audiences",
        artifacts=root / "warehouse" / "artifacts",
        **extra,
    )
