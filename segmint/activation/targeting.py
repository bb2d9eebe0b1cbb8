"""The table audiences select from (marts.customer_targeting) and the error of audience
definitions checked against it."""

from __future__ import annotations

import duckdb

from segmint.catalog import table_columns
from segmint.errors import SegmintError

TARGETING_SCHEMA = "marts"
TARGETING_TABLE = "customer_targeting"
TARGETING = f"{TARGETING_SCHEMA}.{TARGETING_TABLE}"


class AudienceError(SegmintError):
    """One or more problems in audience definitions (each line names file and field)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def targeting_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Column name -> DuckDB type of marts.customer_targeting (AudienceError when missing)."""
    columns = table_columns(con, TARGETING_SCHEMA, TARGETING_TABLE)
    if not columns:
        raise AudienceError([f"{TARGETING} does not exist yet: build the warehouse first"])
    return columns


def require_columns(schema: dict[str, str], columns: list[str], why: str) -> None:
    """AudienceError when customer_targeting lacks any of `columns` (needed by `why`)."""
    missing = [c for c in columns if c not in schema]
    if missing:
        raise AudienceError([f"{TARGETING} lacks column(s) {missing} needed by {why}"])
