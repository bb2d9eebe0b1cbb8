"""Idempotency: the same landing data run into two fresh warehouses gives the same marts
and model outputs, and a rerun on the same warehouse changes none of them.

The two fresh warehouses: `baseline` (a `segmint run` subprocess, tests/reliability/
conftest.py) and the first run of `twice` (run_pipeline in process, tests/conftest.py), on
copies of the same landing folder. Each is compared with the same golden fingerprint
(tests/golden/fingerprint.json: row counts and checksums of every table of marts and ml,
and the model metrics): `baseline` in tests/reliability/test_fresh_run.py, `twice` in
tests/integration/test_golden_fingerprint.py. So the two fixtures never need to be in one
process or module, and the suite's two workers build one each (tests/conftest.py).

The rerun: the second run of `twice`, compared table by table as (row count,
order-independent checksum of all rows). Excluded (tests/runs.py RUNTIME_COLUMNS): columns
that record when something ran, not what it computed: _loaded_at (ingest time carried into
the incremental facts), scored_at / trained_at / computed_at / created_at (model run times),
dbt_updated_at (snapshot bookkeeping), and keys measuring elapsed time inside JSON metrics
(fit_seconds, seconds, duration_s in ml.model_runs.metrics). Also what records the previous
run by design (tests/runs.py STATEFUL_TABLES/COLUMNS): ml.model_runs (append-only history),
ml.feature_drift (drift against the previous run) and ml.segment_profiles.matched_previous.
"""

from __future__ import annotations

import pytest

from tests.runs import STATEFUL_TABLES

pytestmark = pytest.mark.timeout(1800)  # three pipeline runs behind the fixtures


def _diff(a: dict, b: dict) -> dict[str, tuple]:
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def test_rerun_on_same_warehouse_changes_no_mart_or_model(twice) -> None:
    """A second run over the same (already loaded) files rebuilds identical marts and model
    outputs; only the tables and columns that record the previous run may change."""
    first, second = twice.rerun_first_checksums, twice.rerun_second_checksums
    assert first["ml.churn_scores"][0] == 400
    diff = _diff(first, second)
    assert set(diff) <= STATEFUL_TABLES, diff
    # The history grew by one row per model; nothing else changed.
    assert second["ml.model_runs"][0] == 2 * first["ml.model_runs"][0]
