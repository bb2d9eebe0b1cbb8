"""Resources shared by every domain: the warehouse location and the one-writer pool."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from segmint.settings import Settings

# Every asset that writes the DuckDB file takes this pool; dagster.yaml limits it to 1, and
# the default executor runs in process, so two writers never hold the file at once.
WRITER_POOL = "duckdb_writer"


class WarehouseResource(dg.ConfigurableResource):
    """Where the working warehouse, the published snapshot, landing and exports live."""

    path: str
    published: str
    landing: str
    exports: str
    audiences: str
    artifacts: str
    as_of: str | None = None
    seed: int = 42
    churn_horizon_days: int = 90
    base_currency: str = "EUR"
    holdout_salt: str = "segmint"

    @classmethod
    def from_settings(cls, s: Settings) -> WarehouseResource:
        return cls(
            path=str(s.warehouse.resolve()),
            published=str(s.published_path.resolve()),
            landing=str(s.landing.resolve()),
            exports=str(s.exports.resolve()),
            audiences=str(s.audiences.resolve()),
            artifacts=str(s.artifacts.resolve()),
            as_of=s.as_of,
            seed=s.seed,
            churn_horizon_days=s.churn_horizon_days,
            base_currency=s.base_currency,
            holdout_salt=s.holdout_salt,
        )

    @property
    def db(self) -> Path:
        return Path(self.path)

    def artifact_dir(self, name: str) -> Path:
        d = Path(self.artifacts) / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def export_env(self) -> None:
        """Environment the dbt subprocess reads (profiles.yml uses SEGMINT_WAREHOUSE)."""
        os.environ["SEGMINT_WAREHOUSE"] = self.path
