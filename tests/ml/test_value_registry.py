"""Customer value under the model registry: the first run fits and stores a champion, a run on
the same data scores with it (no PyMC fit, the same numbers), a retrain due (cadence, changed
parameters) fits a challenger that the gate compares with the champion's time-split fit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ml.registry import FIRST_RUN, KEPT, PROMOTED, SCORED, ModelStore, Policy
from ml.value import ValueParams  # noqa: E402  (after test_value pointed the compile cache)
from ml.value import run as value_run  # noqa: E402
from tests.ml.test_value import AS_OF, PARAMS, RUN_AT, inputs_mart, simulate


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    return ModelStore(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def first(orders, store):
    return value_run.run_customer_value(
        inputs_mart(orders), PARAMS, RUN_AT, (store, Policy()), log=lambda _: None
    )


def test_the_first_run_fits_and_stores_a_champion_without_customer_rows(first, store) -> None:
    assert first.run.decision["decision"] == FIRST_RUN
    assert first.run.metrics["evaluated"] and len(first.scores) > 250
    pointer = store.pointer("customer_value")
    assert pointer["version"] == first.run.model_version
    stored = b"".join(p.read_bytes() for p in Path(store.root).rglob("*") if p.is_file())
    assert b"c0001" not in stored and b"loyal" not in stored


def test_a_rerun_scores_with_the_champion_without_fitting(
    first, orders, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fit(*_: object) -> None:
        raise AssertionError("the champion scores: nothing is fitted")

    monkeypatch.setattr(value_run, "fit", no_fit)
    again = value_run.run_customer_value(
        inputs_mart(orders), PARAMS, RUN_AT, (store, Policy()), log=lambda _: None
    )
    assert again.run.decision["decision"] == SCORED
    assert again.run.model_version == first.run.model_version
    pd.testing.assert_frame_equal(again.scores, first.scores)
    assert again.run.metrics["spearman"] == first.run.metrics["spearman"]
    pd.testing.assert_frame_equal(again.calibration, first.calibration)


def test_a_week_later_the_champion_scores_the_new_day_then_the_cadence_retrains(
    first, orders, store
) -> None:
    later = AS_OF + pd.Timedelta(days=3)
    scored = value_run.run_customer_value(
        inputs_mart(orders, later), PARAMS, RUN_AT, (store, Policy()), log=lambda _: None
    )
    assert scored.run.decision["decision"] == SCORED
    assert pd.Timestamp(scored.run.data_window["scored_as_of"]) == later
    # the same customers, three more days of tenure: fewer expected purchases for the lapsed
    lapsed = [s.set_index("customer_id").loc["lapsed"] for s in (first.scores, scored.scores)]
    assert lapsed[1]["p_alive"] < lapsed[0]["p_alive"]

    week = AS_OF + pd.Timedelta(days=8)
    retrained = value_run.run_customer_value(
        inputs_mart(orders, week), PARAMS, RUN_AT, (store, Policy()), log=lambda _: None
    )
    decision = retrained.run.decision
    assert decision["decision"] in (PROMOTED, KEPT) and decision["reasons"] == ["cadence"]
    # both metrics on the challenger's window: the champion's time-split fit scored it
    assert 0 < decision["champion_metric"] <= 1 and 0 < decision["challenger_metric"] <= 1


def test_changed_parameters_retrain(first, orders, store) -> None:
    other = ValueParams(draws=PARAMS.draws, seed=PARAMS.seed, transaction_model="beta_geo")
    result = value_run.run_customer_value(
        inputs_mart(orders), other, datetime(2025, 1, 1, tzinfo=UTC), (store, Policy()),
        log=lambda _: None,
    )  # fmt: skip
    assert "params_changed" in result.run.decision["reasons"]
    assert result.run.decision["decision"] in (PROMOTED, KEPT)
