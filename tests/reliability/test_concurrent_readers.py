"""Concurrent readers: an analyst process queries the published file in a loop while two
consecutive pipeline runs write the working warehouse and publish; neither side errors.

The reader (tests/runs.py READER) opens the published file read-only, runs two queries (one
a join of ml and marts, so a half-swapped snapshot would show) and closes it, every 50 ms,
from before the first run of `twice` (tests/conftest.py) starts until the second has
finished. Before the first publish the file does not exist yet: those polls are counted as
waits, not reads. Both runs must have succeeded (the fixture asserts it).
"""

from __future__ import annotations

import pytest

from segmint.warehouse import read_manifest, verify_published

pytestmark = pytest.mark.timeout(1800)  # two pipeline runs behind the fixture


def test_reader_never_fails_during_two_runs(twice) -> None:
    reader = twice.reader
    print(
        f"reader: {reader.reads} reads, {reader.errors} errors, "
        f"{reader.waits} polls before the first publish"
    )
    assert reader.errors == 0, reader.output[-2000:]
    assert reader.reads >= 20, reader.output[-2000:]
    # Both runs published (the second replaced the first's snapshot) and the file is whole.
    assert twice.second_manifest["ml.model_runs"] == 2 * twice.first_manifest["ml.model_runs"]
    assert verify_published(twice.settings.published_path) == {}
    assert read_manifest(twice.settings.published_path)["marts.customer_360"] == 400
