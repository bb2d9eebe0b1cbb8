"""The in-memory warehouse with a customer_targeting table every activation test uses."""

from __future__ import annotations

import duckdb
import pytest

from tests.segmint.activation.data import load_targeting, make_rows


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    load_targeting(connection, make_rows())
    yield connection
    connection.close()
