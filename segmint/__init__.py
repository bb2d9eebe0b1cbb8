"""segmint: an open-source customer analytics warehouse (dbt + DuckDB + Dagster)."""

__version__ = "0.1.0"
