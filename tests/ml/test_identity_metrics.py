"""Pairwise stitching metrics count pairs from the (truth, prediction) contingency table."""

from __future__ import annotations

import pandas as pd

from ml.identity import pairwise_scores, stitching_run


def test_pairwise_precision_and_recall_count_identifier_pairs() -> None:
    frame = pd.DataFrame(
        {
            # person 1 has 3 identifiers, person 2 has 2; a shared device has no person
            "person": [1, 1, 1, 2, 2, None],
            # the stitching splits person 1 and wrongly joins one of theirs with person 2
            "person_id": ["a", "a", "b", "b", "b", "b"],
        }
    )
    scores = pairwise_scores(frame, "person_id")
    # true pairs: 3 + 1 = 4; predicted pairs among known: a:1, b:3 -> 4; correct: 1 + 1 = 2
    assert (scores["true_pairs"], scores["predicted_pairs"]) == (4, 4)
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5
    assert scores["identifiers"] == 5


def test_unstitched_identifiers_are_persons_of_their_own() -> None:
    frame = pd.DataFrame(
        {"person": [1, 1, 2], "person_id": ["a", "a", "a"], "baseline_id": [None, None, None]}
    )
    run = stitching_run(frame, params={"max_persons": 5}, data_window={"customers": 2})
    assert run.model == "identity"
    assert run.metrics["precision"] == round(1 / 3, 4) and run.metrics["recall"] == 1.0
    assert run.baseline_metrics["predicted_pairs"] == 0 and run.baseline_metrics["recall"] == 0.0
