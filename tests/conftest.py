"""Shared fixtures: small generated landing data and settings pointing into a temp folder."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
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
    # A fixed identifier hash key, so the seeded run's customer_key (and the golden
    # fingerprint) is the same on every machine; the key file path has its own tests.
    "SEGMINT_HASH_KEY": "5e9a1c7d3b2f4e6a8c0d1f3e5a7b9c2d4f6e8a0b1c3d5e7f9a2b4c6d8e0f1a3b",
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
    from segmint.sample import generate

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


@dataclass
class TwoRuns:
    """The pipeline run in process twice in a row on the same landing data and warehouse.

    Shared by the integration tests (what Dagster materialized and published) and the
    reliability tests (identical outputs on rerun; an analyst reading throughout).
    Everything a test compares is captured here, right after each run, because later
    integration tests run the pipeline again on the same warehouse.
    """

    settings: Settings
    first: object  # orchestration.runner.RunSummary
    second: object
    first_manifest: dict[str, int]
    second_manifest: dict[str, int]
    first_checksums: dict[str, tuple[int, str]]  # marts + ml, runtime columns excluded
    rerun_first_checksums: dict[str, tuple[int, str]]  # also without stateful columns
    rerun_second_checksums: dict[str, tuple[int, str]]
    first_fingerprint: dict  # tests.fingerprint: compared with tests/golden/fingerprint.json
    reader: object  # tests.runs.ReaderResult, the analyst polling during both runs


@pytest.fixture(scope="session")
def twice(tmp_path_factory: pytest.TempPathFactory, sample_landing: Path) -> TwoRuns:
    from orchestration.runner import run_pipeline
    from segmint.warehouse import read_manifest
    from tests.fingerprint import fingerprint
    from tests.runs import RUNTIME_COLUMNS, STATEFUL_COLUMNS, AnalystReader, table_checksums

    root = tmp_path_factory.mktemp("twice")
    landing = root / "landing"
    shutil.copytree(sample_landing, landing)
    settings = make_settings(root, landing)
    schemas = ("marts", "ml")
    stateless = RUNTIME_COLUMNS | STATEFUL_COLUMNS
    reader = AnalystReader(settings.published_path, root / "stop-reader").start()
    try:
        first = run_pipeline(settings)
        assert first.success, first.render()
        first_manifest = read_manifest(settings.published_path)
        first_checksums = table_checksums(settings.warehouse, schemas)
        rerun_first = table_checksums(settings.warehouse, schemas, stateless)
        first_fingerprint = fingerprint(settings.warehouse)
        second = run_pipeline(settings)
        assert second.success, second.render()
    finally:
        result = reader.stop()
    return TwoRuns(
        settings=settings,
        first=first,
        second=second,
        first_manifest=first_manifest,
        second_manifest=read_manifest(settings.published_path),
        first_checksums=first_checksums,
        rerun_first_checksums=rerun_first,
        rerun_second_checksums=table_checksums(settings.warehouse, schemas, stateless),
        first_fingerprint=first_fingerprint,
        reader=result,
    )


# The session-wide pipeline runs (`twice` here: two runs in process; `baseline` in
# tests/reliability: one `segmint run` subprocess) cost one to two full runs each. Under
# pytest-xdist (`-n 2` in pyproject's addopts) every test module whose functions take one of
# them (tests or their module's fixtures) is scheduled with the other modules taking the same
# one, on one worker: each shared run happens once per suite, not once per worker, and the
# two run on different workers. A module taking both goes with `twice` (and builds
# `baseline` there too: keep them apart). Modules taking the session's SparkSession share a
# worker too (one JVM per suite). Every other test is balanced on its own. (xdist's own
# `--dist loadgroup` does not group under pytest 9: it renames `item._nodeid`, which pytest
# 9 no longer reads.)
SHARED_SCOPES = (("twice",), ("baseline",), ("spark",))
_TAKES_FIXTURES = re.compile(r"def \w+\(([^)]*)\)")


def _modules_taking(root: Path, fixtures: tuple[str, ...]) -> frozenset[str]:
    found = set()
    for path in root.rglob("test_*.py"):
        for params in _TAKES_FIXTURES.findall(path.read_text()):
            if set(re.findall(r"\w+", params)) & set(fixtures):
                found.add(path.relative_to(root.parent).as_posix())
                break
    return frozenset(found)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The suite's processes (xdist workers too) end without DuckDB's nanobind teardown
    report, as `segmint` does (segmint.cli_common.quiet_teardown: harmless at exit, ~40
    lines per process in CI's log)."""
    import atexit

    from segmint.cli_common import quiet_teardown

    atexit.register(quiet_teardown)


# What the work costs, roughly (seconds on an idle 2-core machine, from fresh-clone runs'
# --durations), so each worker starts the costliest unit left: longest first, no 100-second
# unit is left for the end while the other worker idles. Only the order depends on these;
# a stale figure costs time, never a test. The shared runs (fixtures) add to their scope.
SHARED_SECONDS = {"shared-twice": 130, "shared-baseline": 100, "shared-spark": 15}
MODULE_SECONDS = {  # every test of the module together; unlisted modules 0.5 s per test
    "tests/reliability/test_crash_safety.py": 110,
    "tests/reliability/test_erasure.py": 230,
    "tests/dbt/test_spark_engine.py": 160,
    "tests/ml/test_forecast_spark.py": 20,
    "tests/orchestration/lib/test_engine.py": 20,
    "tests/integration/test_orchestration.py": 100,
    "tests/integration/test_model_registry.py": 30,
    "tests/benchmarks/test_pipeline_bench.py": 20,
    "tests/dbt/test_dbt_project.py": 160,
    "tests/segmint/test_cli_ingest.py": 120,
    "tests/dbt/test_currencies.py": 65,
    "tests/reliability/test_ingest_property.py": 50,
    "tests/orchestration/test_ui.py": 45,
    "tests/dbt/test_generated_data.py": 35,
    "tests/reliability/test_consent_ordering.py": 30,
    "tests/segmint/test_cli_busy.py": 30,
    "tests/dbt/test_holdout_readout.py": 27,
    "tests/segmint/ingest/test_postgres_source.py": 25,
    "tests/segmint/test_cli_errors.py": 20,
    "tests/orchestration/test_definitions.py": 20,
    "tests/dbt/test_identity.py": 20,
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from collections import Counter

    from xdist.scheduler import LoadScopeScheduling

    root = Path(__file__).resolve().parent
    scopes = [(f"shared-{'-'.join(f)}", _modules_taking(root, f)) for f in SHARED_SCOPES]

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return next((name for name, modules in scopes if module in modules), nodeid)

        def _cost(self, scope: str) -> float:
            if not hasattr(self, "_per_module"):
                self._per_module = Counter(n.split("::", 1)[0] for n in self.collection)
            tests = [n.split("::", 1)[0] for n in self.workqueue[scope]]
            each = (
                MODULE_SECONDS.get(m, 0.5 * self._per_module[m]) / self._per_module[m]
                for m in tests
            )
            return SHARED_SECONDS.get(scope, 0) + sum(each)

        def _assign_work_unit(self, node: object) -> None:
            # xdist pops the first unit (scopes ordered by test count); take the costliest
            costliest = max(self.workqueue, key=self._cost)
            self.workqueue.move_to_end(costliest, last=False)
            super()._assign_work_unit(node)

    return SharedRunScheduling(config, log)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """One SparkSession (local[2], in-memory catalog: no Derby, nothing outlives the run) for
    every Spark test, so the suite starts one JVM; stopped at the end. Tests that use it are
    marked spark and skip without Java or pyspark."""
    from segmint import spark as engine

    with pytest.MonkeyPatch.context() as env:
        spark_dir = tmp_path_factory.mktemp("spark")
        env.setenv("SEGMINT_SPARK_CATALOG", "in-memory")
        env.setenv(engine.SPARK_DIR_ENV, str(spark_dir.resolve()))
        session = engine.session(spark_dir)
        yield session
        session.stop()
