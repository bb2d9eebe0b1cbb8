"""The seeded sample gives the outputs recorded in tests/golden/fingerprint.json.

A refactor must leave every mart and model table, and every model metric, as it was. When
an output changes on purpose, rewrite the golden file with the reason
(`python -m tests.fingerprint write --why "..."`), which keeps a log of such changes.
"""

from __future__ import annotations

from tests.fingerprint import differences, load_golden


def test_seeded_run_matches_the_golden_fingerprint(twice) -> None:
    diffs = differences(load_golden(), twice.first_fingerprint)
    assert not diffs, "outputs changed:\n" + "\n".join(diffs)
