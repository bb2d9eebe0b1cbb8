"""`segmint status`: what is loaded, quarantined, built and published, and where."""

from __future__ import annotations

import json

from rich.table import Table

from segmint import spark
from segmint.catalog import has_table, list_tables
from segmint.errors import SegmintError
from segmint.settings import Settings
from segmint.warehouse import connect


def collect_status(s: Settings) -> list[Table]:
    """Tables describing the working warehouse and the published snapshot."""
    if not s.warehouse.exists():
        raise SegmintError(f"no warehouse at {s.warehouse}: run `segmint ingest` or `segmint run`")
    tables: list[Table] = []
    with connect(s.warehouse, read_only=True) as con:
        ledger = Table("table", "files", "read", "loaded", "quarantined", "refused", title="loaded")
        if has_table(con, "raw", "load_ledger"):
            for row in con.execute(
                """
                select table_name, count(*), sum(rows_read), sum(rows_loaded),
                       sum(rows_quarantined), count(*) filter (where status = 'refused')
                from raw.load_ledger group by 1 order by 1
                """
            ).fetchall():
                ledger.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        tables.append(ledger)
        if s.engine == "spark":
            tables.append(_spark_tables(s))
        else:
            built = Table("schema", "table", "rows", title=f"working warehouse {s.warehouse}")
            for schema, name in list_tables(con, ("marts", "ml", "activation")):
                (n,) = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
                built.add_row(schema, name, f"{n:,}")
            tables.append(built)
        if has_table(con, "activation", "audience_runs"):
            exports = Table("audience", "destination", "status", "sent", "file", title="exports")
            for row in con.execute(
                """
                select audience, destination, status, exported, coalesce(file, '')
                from activation.audience_runs
                qualify row_number() over (
                    partition by audience, destination order by started_at desc) = 1
                order by 1, 2
                """
            ).fetchall():
                exports.add_row(row[0], row[1], row[2], f"{row[3] or 0:,}", str(row[4]))
            tables.append(exports)
    tables.append(_spark_next_steps(s) if s.engine == "spark" else _next_steps(s))
    return tables


def _spark_published(s: Settings) -> dict | None:
    """<spark dir>/published.json: the run that last published the Spark tables."""
    try:
        return json.loads((s.spark_path / spark.PUBLISHED_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _spark_tables(s: Settings) -> Table:
    """The published Spark tables with their row counts as the last publishing run counted
    them (status starts no Spark session: a run may hold the metastore)."""
    published = _spark_published(s)
    run = f" (run {published['run_id'][:8]})" if published else ""
    built = Table("schema", "table", "rows", title=f"Spark tables in {s.spark_path}{run}")
    for name, n in sorted((published or {}).get("tables", {}).items()):
        schema, table = name.split(".", 1)
        built.add_row(schema, table, f"{n:,}")
    return built


def _spark_next_steps(s: Settings) -> Table:
    where = Table("what", "where", title="next steps")
    if _spark_published(s):
        where.add_row("published (analysts)", "the Spark tables of marts, ml, activation")
    else:
        where.add_row("published", "not yet: run `segmint run`")
    where.add_row("query them", "spark.sql / spark-sql / any client of the metastore")
    where.add_row("metastore", str((s.spark_path / "metastore_db").resolve()))
    where.add_row("Dagster UI", "make ui  →  http://127.0.0.1:3000")
    where.add_row("exports", str(s.exports.resolve()))
    return where


def _next_steps(s: Settings) -> Table:
    pub = s.published_path
    where = Table("what", "where", title="next steps")
    if pub.exists():
        where.add_row("published snapshot (analysts)", str(pub.resolve()))
    else:
        where.add_row("published snapshot", "not yet: run `segmint run`")
    where.add_row("query it", 'segmint sql "select * from marts.customer_360 limit 5"')
    where.add_row("or any DuckDB client", f"open {pub} read-only")
    where.add_row("Dagster UI", "make ui  →  http://127.0.0.1:3000")
    where.add_row("exports", str(s.exports.resolve()))
    return where
