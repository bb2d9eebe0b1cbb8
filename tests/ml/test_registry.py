"""ml.registry: stored versions, the champion pointer, when to retrain and the promotion gate.

A tiny family (a dict payload whose "metric" the test sets) drives `select`, so every
decision is checked without fitting a real model; tests/integration/test_model_registry.py
checks the real families inside the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ml import evaluation
from ml.registry import (
    FIRST_RUN,
    KEPT,
    PROMOTED,
    SCORED,
    Family,
    Fitted,
    ModelStore,
    Policy,
    decide,
    joblib_read,
    joblib_write,
    max_psi,
    retrain_reasons,
    select,
)

DAY = date(2025, 6, 1)


TRAINING_INPUTS = pd.DataFrame({"x": range(1000)})


@dataclass
class Payload:
    """A toy fitted model with the drift profile of the inputs it was fitted on."""

    metric: float
    version: str
    reference: dict

    def drift_frame(self, inputs: pd.DataFrame) -> pd.DataFrame:
        return inputs[["x"]]


class Toy:
    """A family whose fits are counted and whose next challenger metric is set by the test."""

    def __init__(self, metric: float = 0.8, code: str = "code-1", as_of: date = DAY) -> None:
        self.metric, self.code, self.as_of, self.fits = metric, code, as_of, 0
        self.inputs = TRAINING_INPUTS

    def family(self) -> Family:
        def fit() -> Fitted:
            self.fits += 1
            version = f"toy-{self.code}-{self.as_of}-{self.fits}"
            payload = Payload(self.metric, version, evaluation.drift_profile(self.inputs, ["x"]))
            return Fitted(payload, version, self.metric, {"as_of": self.as_of})

        return Family(
            model="toy",
            metric="auc",
            fit=fit,
            evaluate=lambda champion, challenger: champion.metric,
            code=self.code,
            as_of=self.as_of,
            inputs=self.inputs,
            horizon_days=30,
        )


def _select(store: ModelStore, toy: Toy, **policy) -> tuple:
    lines: list[str] = []
    chosen = select(store, toy.family(), Policy(**policy), log=lines.append)
    return chosen, lines


def test_the_first_run_trains_and_the_second_scores_with_the_stored_champion(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    first, _ = _select(store, toy)
    assert first.decision["decision"] == FIRST_RUN and toy.fits == 1
    second, lines = _select(store, toy)
    assert toy.fits == 1  # not refit
    assert second.decision["decision"] == SCORED and second.decision["reasons"] == []
    assert second.version == first.version and second.payload == first.payload
    assert any("scoring with champion" in line for line in lines)


def test_a_stored_version_loads_back_with_its_meta(tmp_path) -> None:
    store = ModelStore(tmp_path)
    store.save("toy", "v1", {"w": [1, 2]}, {"as_of": DAY, "metrics": {"auc": 0.7}}, joblib_write)
    payload, meta = store.load("toy", "v1", joblib_read)
    assert payload == {"w": [1, 2]}
    assert meta["as_of"] == "2025-06-01" and meta["metrics"] == {"auc": 0.7}
    assert set(meta["files"]) == {"model.joblib"}


def test_forced_retrain_promotes_an_equal_challenger(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    _select(store, toy)
    chosen, _ = _select(store, toy, retrain=True)
    assert toy.fits == 2
    assert chosen.decision["decision"] == PROMOTED and chosen.decision["reasons"] == ["requested"]
    assert chosen.decision["challenger_metric"] == chosen.decision["champion_metric"] == 0.8
    assert store.pointer("toy")["version"] == chosen.version


def test_a_worse_challenger_keeps_the_champion_and_restarts_its_cadence(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy(metric=0.8)
    first, _ = _select(store, toy)
    toy.metric, toy.as_of = 0.7, date(2025, 6, 9)  # a week later: due, and worse
    kept, _ = _select(store, toy)
    assert kept.decision["decision"] == KEPT and kept.decision["reasons"] == ["cadence"]
    assert (kept.decision["challenger_metric"], kept.decision["champion_metric"]) == (0.7, 0.8)
    assert kept.version == first.version and kept.payload == first.payload
    pointer = store.pointer("toy")
    assert pointer["version"] == first.version and pointer["reviewed_as_of"] == "2025-06-09"
    again, _ = _select(store, toy)  # reviewed today: not due again
    assert again.decision["decision"] == SCORED and toy.fits == 2


def test_the_tolerance_lets_a_slightly_worse_challenger_win() -> None:
    assert decide(0.795, 0.80, tolerance=0.01) == PROMOTED
    assert decide(0.785, 0.80, tolerance=0.01) == KEPT
    assert decide(0.785, 0.80, tolerance=0.02) == PROMOTED
    assert decide(1.10, 1.00, tolerance=0.05, higher_is_better=False) == KEPT  # e.g. MASE
    assert decide(1.04, 1.00, tolerance=0.05, higher_is_better=False) == PROMOTED
    assert decide(0.5, float("nan"), tolerance=0.0) == PROMOTED  # nothing to beat
    assert decide(None, 0.8, tolerance=0.0) == KEPT  # cannot tell: keep


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"code": "code-2"}, "code_changed"),
        ({"as_of": date(2025, 6, 8)}, "cadence"),
        ({"as_of": date(2025, 5, 20)}, "as_of_changed"),  # the champion saw later data
    ],
)
def test_code_cadence_and_an_earlier_as_of_trigger_a_retrain(tmp_path, change, reason) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    _select(store, toy)
    for key, value in change.items():
        setattr(toy, key, value)
    chosen, _ = _select(store, toy)
    assert reason in chosen.decision["reasons"] and toy.fits == 2


def test_six_days_later_is_not_due_yet(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    _select(store, toy)
    toy.as_of = date(2025, 6, 7)
    assert _select(store, toy)[0].decision["decision"] == SCORED


def test_the_window_moving_beyond_the_horizon_retrains_even_a_kept_champion() -> None:
    pointer = {"reviewed_code": "c", "reviewed_as_of": "2025-06-30", "trained_as_of": "2025-05-01"}
    assert retrain_reasons(pointer, Policy(cadence_days=100), "c", DAY.replace(month=7), 30) == [
        "window_moved"
    ]
    assert retrain_reasons(pointer, Policy(cadence_days=100), "c", DAY.replace(month=7), 90) == []


def test_feature_drift_above_the_threshold_retrains(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    _select(store, toy)
    toy.inputs = TRAINING_INPUTS.assign(x=TRAINING_INPUTS["x"] + 20)  # a slight shift
    slight = _select(store, toy, psi_threshold=0.2)[0].decision
    assert slight["decision"] == SCORED and 0 < slight["drift_max_psi"] < 0.2
    toy.inputs = TRAINING_INPUTS.assign(x=TRAINING_INPUTS["x"] + 400)
    chosen, _ = _select(store, toy, psi_threshold=0.2)
    assert chosen.decision["reasons"] == ["drift"] and chosen.decision["drift_max_psi"] > 0.2


def test_max_psi_measures_a_shifted_feature() -> None:
    train = pd.DataFrame({"x": range(1000), "y": [i % 7 for i in range(1000)]})
    profile = evaluation.drift_profile(train, ["x", "y"])
    assert max_psi(profile, train) == pytest.approx(0.0, abs=1e-9)
    shifted = train.assign(x=train["x"] + 600)
    assert max_psi(profile, shifted) > 1.0
    assert max_psi(None, train) is None


def test_a_crash_while_saving_a_challenger_leaves_the_champion_loadable(tmp_path) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    first, _ = _select(store, toy)
    family = toy.family()

    def crash(payload, folder: Path) -> None:
        (folder / "model.joblib").write_bytes(b"half")
        raise KeyboardInterrupt  # killed mid-save

    family.write = crash
    with pytest.raises(KeyboardInterrupt):
        select(store, family, Policy(retrain=True), log=lambda _: None)
    assert not [p for p in (tmp_path / "toy").iterdir() if p.name.startswith(".")]
    # a save killed outright (SIGKILL: no cleanup) leaves its temp folder to the next save
    (tmp_path / "toy" / ".toy-x.tmp-999999999-abcd1234").mkdir()
    chosen, _ = _select(store, toy)
    assert chosen.decision["decision"] == SCORED and chosen.payload == first.payload
    _select(store, toy, retrain=True)
    assert not [p for p in (tmp_path / "toy").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["payload", "meta", "pointer", "missing"])
def test_a_damaged_champion_is_retrained_with_a_clear_line(tmp_path, damage) -> None:
    store, toy = ModelStore(tmp_path), Toy()
    first, _ = _select(store, toy)
    folder = store.folder("toy", first.version)
    if damage == "payload":
        (folder / "model.joblib").write_bytes(b"not a pickle")
    elif damage == "meta":
        (folder / "meta.json").write_text("{")
    elif damage == "pointer":
        (tmp_path / "toy" / "champion.json").write_text("[]")
    else:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    chosen, lines = _select(store, toy)
    assert chosen.decision["decision"] == FIRST_RUN
    assert chosen.decision["reasons"] == ["champion_unusable"] and toy.fits == 2
    assert any("champion unusable, retraining" in line for line in lines), lines
    assert json.loads((tmp_path / "toy" / "champion.json").read_text())["version"] == (
        chosen.version
    )
    assert _select(store, toy)[0].decision["decision"] == SCORED  # healthy again
