"""The model registry inside the pipeline: the shared run's first pass trains and stores the
champions, its second pass (same data) scores with them without refitting and writes the same
outputs; `segmint run --retrain` refits and records the gate's decision in ml.model_runs
and on the asset's materialization in the Dagster UI.

Uses the shared two runs (tests/conftest.py `twice`); the retrain runs only the churn and
segmentation steps, as the user's command, on a copy of that warehouse folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.reliability.conftest import segmint
from tests.runs import RUNTIME_COLUMNS, STATEFUL_COLUMNS, table_checksums

STATELESS = RUNTIME_COLUMNS | STATEFUL_COLUMNS  # see tests/runs.py

FAMILIES = ("churn", "segmentation", "demand_forecast", "customer_value", "recommendations")
OUTPUTS = ("ml.churn_scores", "ml.fairness_audit", "ml.customer_segments", "ml.segment_profiles")
FORECASTS = ("ml.demand_forecasts", "ml.forecast_backtests", "ml.forecast_flags")
VALUE = ("ml.customer_value", "ml.recommendations")


def _decisions(db: Path) -> dict[str, list[dict]]:
    """Each family's run records, oldest first: version and decision."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select model, model_version, decision from ml.model_runs "
            f"where model in {FAMILIES} order by trained_at, model"
        ).fetchall()
    out: dict[str, list[dict]] = {m: [] for m in FAMILIES}
    for model, version, decision in rows:
        out[model].append({"version": version, **json.loads(decision)})
    return out


def test_the_second_run_scores_with_the_stored_champion(twice) -> None:
    runs = _decisions(twice.settings.warehouse)
    models = twice.settings.warehouse.parent / "models"
    for family in FAMILIES:
        first, second = runs[family][:2]
        assert first["decision"] == "first_run", first
        assert second["decision"] == "scored_with_champion", second
        assert second["reasons"] == [] and second["champion_version"] == first["version"]
        assert second["version"] == first["version"]
        pointer = json.loads((models / family / "champion.json").read_text())
        assert pointer["version"] == first["version"]
        assert (models / family / first["version"] / "meta.json").is_file()
    # scoring with the stored model gives the outputs the fresh fit gave
    before, after = twice.rerun_first_checksums, twice.rerun_second_checksums
    compared = OUTPUTS + FORECASTS + VALUE
    assert {t: after[t] for t in compared} == {t: before[t] for t in compared}
    assert before["ml.churn_scores"][0] == 400


@pytest.mark.timeout(900)
def test_retrain_flag_refits_and_records_the_gate(twice, tmp_path) -> None:
    root = tmp_path / "retrain"
    source = twice.settings.warehouse.parent.parent
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("stop-reader"))
    db = root / "warehouse" / "segmint.duckdb"
    before = table_checksums(db, ("ml",), STATELESS)
    n_before = {f: len(v) for f, v in _decisions(db).items()}
    assert n_before["demand_forecast"] >= 2
    proc = segmint(
        root,
        "run",
        "--retrain",
        "--select",
        "key:ml/churn_scores or key:ml/customer_segments",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = _decisions(db)
    for family in FAMILIES[:2]:
        assert len(runs[family]) == n_before[family] + 1
        last = runs[family][-1]
        assert last["decision"] == "promoted", last
        assert last["reasons"] == ["requested"]
        # same data, same seed: the refit is the champion again, on the same window
        assert last["challenger_metric"] == pytest.approx(last["champion_metric"])
    after = table_checksums(db, ("ml",), STATELESS)
    changed = [t for t in OUTPUTS if after[t] != before[t]]
    assert changed == [], changed
    instance = dg.DagsterInstance.from_config(str(root / "warehouse" / "dagster"))
    try:
        event = instance.get_latest_materialization_event(dg.AssetKey(["ml", "churn_scores"]))
        meta = event.asset_materialization.metadata
        assert meta["registry_decision"].value == "promoted"
        assert meta["retrain_reasons"].value == "requested"
        assert isinstance(meta["champion_metric"].value, float)
    finally:
        instance.dispose()
