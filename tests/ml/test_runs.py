"""ModelRun: one record shape for every model's row in ml.model_runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pandas as pd

from ml.runs import MODEL_RUN_COLUMNS, ModelRun, model_runs_frame, model_version, to_json
from orchestration.lib.io import write_tables

RUN = ModelRun(
    model="churn",
    model_version="churn-abc",
    trained_at=datetime(2024, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2))),
    params={"b": 1, "a": (1, 2)},
    metrics={"auc": float("nan"), "n": np.int64(3)},
    baseline_metrics={},
    data_window={"as_of": pd.Timestamp("2024-01-01")},
)


def test_a_run_becomes_one_row_of_deterministic_json_with_a_naive_utc_time() -> None:
    row = RUN.to_row()
    assert tuple(row) == MODEL_RUN_COLUMNS
    assert row["trained_at"] == pd.Timestamp("2024-01-02 01:04")
    assert row["params"] == '{"a": [1, 2], "b": 1}'
    assert json.loads(row["metrics"]) == {"auc": None, "n": 3}
    assert row["data_window"] == '{"as_of": "2024-01-01T00:00:00"}'
    assert row["baseline_metrics"] == "{}"
    assert row["drift_profile"] is None
    frame = model_runs_frame([RUN, RUN])
    assert tuple(frame.columns) == MODEL_RUN_COLUMNS and len(frame) == 2


def test_runs_append_to_ml_model_runs_with_json_columns(tmp_path) -> None:
    db = str(tmp_path / "w.duckdb")
    profiled = ModelRun(**{**RUN.__dict__, "model": "segmentation", "drift_profile": {"n": 1}})
    write_tables(db, {}, append={"ml.model_runs": model_runs_frame([RUN])})
    write_tables(db, {}, append={"ml.model_runs": model_runs_frame([profiled])})
    with duckdb.connect(db, read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = 'model_runs' order by ordinal_position"
            ).fetchall()
        )
        rows = con.execute(
            "select model, metrics ->> '$.n', drift_profile from ml.model_runs order by model"
        ).fetchall()
    assert tuple(types) == MODEL_RUN_COLUMNS
    assert types["params"] == types["drift_profile"] == "JSON"
    assert types["trained_at"] == "TIMESTAMP"
    assert rows == [("churn", "3", None), ("segmentation", "3", '{"n": 1}')]


def test_model_version_follows_params_window_and_code() -> None:
    v = model_version("churn", {"seed": 1}, {"as_of": "2024-01-01"}, "code-1")
    assert v == model_version("churn", {"seed": 1}, {"as_of": "2024-01-01"}, "code-1")
    assert v.startswith("churn-")
    assert v != model_version("churn", {"seed": 2}, {"as_of": "2024-01-01"}, "code-1")
    assert v != model_version("churn", {"seed": 1}, {"as_of": "2024-01-01"}, "code-2")
    assert to_json({"b": [1.5, float("nan")], "a": None}) == '{"a": null, "b": [1.5, null]}'
