"""Recommendations under the model registry: the first run fits ALS and stores its item
vectors (no customer rows), a run on the same data scores with them without fitting and gives
the same lists, a later day's new customer is scored against them, and changed parameters or
the cadence refit a challenger that the gate compares with the champion on the same window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from ml.recommend import RecommendParams, recommend
from ml.recommend import run as recommend_run
from ml.registry import FIRST_RUN, KEPT, PROMOTED, SCORED, ModelStore, Policy
from tests.ml.recommend_shop import AS_OF, interactions, weekly
from tests.ml.test_recommend import GROUPS, PRODUCTS, RUN_AT, _baskets

PARAMS = RecommendParams(seed=3)


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    return ModelStore(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def first(store):
    return recommend(
        interactions(_baskets(), PRODUCTS), GROUPS, PARAMS, RUN_AT, (store, Policy()), quiet
    )


def test_the_first_run_stores_item_vectors_without_customers(first, store) -> None:
    assert first.run.decision["decision"] == FIRST_RUN
    assert store.pointer("recommendations")["version"] == first.run.model_version
    stored = b"".join(p.read_bytes() for p in Path(store.root).rglob("*") if p.is_file())
    assert b"MILKY" not in stored and b"RETURNER" not in stored
    assert b"MILK" in stored  # product ids: the vectors' rows


def test_a_rerun_scores_with_the_champion_without_fitting(
    first, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fit(*_: object) -> None:
        raise AssertionError("the champion scores: ALS is not fitted")

    monkeypatch.setattr(recommend_run, "fit_items", no_fit)
    again = recommend(
        interactions(_baskets(), PRODUCTS), GROUPS, PARAMS, RUN_AT, (store, Policy()), quiet
    )
    assert again.run.decision["decision"] == SCORED
    pd.testing.assert_frame_equal(again.recommendations, first.recommendations)
    pd.testing.assert_frame_equal(again.evaluation, first.evaluation)


def test_the_next_day_a_new_buyer_is_scored_by_the_stored_vectors(first, store) -> None:
    day = AS_OF + timedelta(days=1)
    baskets = _baskets() + weekly("NEWBIE", "MILK", 3, day, ["BREAD"])
    groups = pd.concat(
        [GROUPS, pd.DataFrame([("NEWBIE", "Regulars", "DE", "organic")], columns=GROUPS.columns)]
    )
    result = recommend(
        interactions(baskets, PRODUCTS, day), groups, PARAMS, RUN_AT, (store, Policy()), quiet
    )
    assert result.run.decision["decision"] == SCORED
    mine = result.recommendations[result.recommendations["customer_id"] == "NEWBIE"]
    assert len(mine) == 10 and mine.iloc[0]["product_id"] in ("MILK", "BREAD")
    assert result.run.data_window["scored_as_of"] == day.isoformat()


def test_changed_parameters_and_the_cadence_refit_through_the_gate(first, store) -> None:
    other = RecommendParams(seed=3, factors=16)
    shop = interactions(_baskets(), PRODUCTS)
    changed = recommend(shop, GROUPS, other, RUN_AT, (store, Policy()), quiet)
    decision = changed.run.decision
    assert "params_changed" in decision["reasons"]
    assert decision["decision"] in (PROMOTED, KEPT)
    assert decision["champion_metric"] is not None  # scored on the challenger's window
    week = AS_OF + timedelta(days=8)
    later = recommend(
        interactions(_baskets(), PRODUCTS, week), GROUPS, other, RUN_AT, (store, Policy()), quiet
    )
    assert later.run.decision["reasons"] == ["cadence"]
