"""Concurrent readers: an analyst process queries the published file in a loop while two
consecutive `segmint run`s write the working warehouse and publish; neither side errors.

The reader (tests/reliability/conftest.py READER) opens the published file read-only, runs
two queries (one a join of ml and marts, so a half-swapped snapshot would show) and closes
it, every 50 ms, from before the first run starts until the second has finished. Before the
first publish the file does not exist yet: those polls are counted as waits, not reads.
"""

from __future__ import annotations

import pytest

from segmint.warehouse import read_manifest, verify_published

pytestmark = pytest.mark.timeout(1800)  # two pipeline runs behind the fixture


def test_reader_never_fails_during_two_runs(fresh_twice) -> None:
    extra = fresh_twice.extra
    print(
        f"reader: {extra['reader_reads']} reads, {extra['reader_errors']} errors, "
        f"{extra['reader_waits']} polls before the first publish"
    )
    assert extra["reader_errors"] == 0, extra["reader_output"][-2000:]
    assert extra["reader_reads"] >= 20, extra["reader_output"][-2000:]
    # Both runs published (the second replaced the first's snapshot) and the file is whole.
    assert verify_published(fresh_twice.published) == {}
    assert read_manifest(fresh_twice.published)["marts.customer_360"] == 400
