"""A fresh `segmint run` subprocess on the sample data gives the golden outputs (the other
fresh run, `twice` in process, is compared with the same golden in tests/integration/
test_golden_fingerprint.py; tests/reliability/test_idempotency.py says why)."""

from __future__ import annotations

from tests.fingerprint import differences, load_golden


def test_a_fresh_subprocess_run_gives_the_golden_outputs(baseline) -> None:
    actual = baseline.extra["fingerprint"]
    assert actual["tables"]["marts.customer_360"]["rows"] == 400
    assert sum(t["rows"] for t in actual["tables"].values()) > 10_000
    diffs = differences(load_golden(), actual)
    assert not diffs, "a fresh `segmint run` differs from the golden:\n" + "\n".join(diffs)
