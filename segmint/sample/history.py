"""Load a generated export history (segmint.sample.campaigns) into the activation tables.

The files hold what segmint's own past exports would have recorded; loading them puts the
sample shop's warehouse where a shop that has exported with segmint for a year already is.
Runs already recorded are skipped (loading twice changes nothing); customer_key is keyed
with the warehouse's own key; erased customers' rows are purged as every export does.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmint import privacy
from segmint.activation.state import SCHEMA, ensure_activation_schema, purge_erased


def record_export_history(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Insert the history in `folder` into activation.*; returns the export runs added."""
    folder = Path(folder)
    runs = folder / "audience_runs.parquet"
    if not runs.is_file():
        return 0
    privacy.prepare(con)
    ensure_activation_schema(con)
    members = str(folder / "audience_run_members" / "*.parquet")
    holdout = str(folder / "audience_holdout" / "*.parquet")
    con.begin()
    try:
        con.execute(
            f"""
            create or replace temp table _segmint_new_runs as
            select * from read_parquet(?)
            where run_id not in (select run_id from {SCHEMA}.audience_runs)
            """,
            [str(runs)],
        )
        con.execute(f"insert into {SCHEMA}.audience_runs by name select * from _segmint_new_runs")
        con.execute(
            f"""
            insert into {SCHEMA}.audience_run_members
            select m.run_id, m.audience, m.destination, m.customer_id,
                   {privacy.keyed_sql("m.customer_id")}, m.in_holdout
            from read_parquet(?) m
            where m.run_id in (select run_id from _segmint_new_runs)
            """,
            [members],
        )
        con.execute(
            f"""
            insert into {SCHEMA}.audience_holdout by name
            select h.* from read_parquet(?) h
            where not exists (
                select 1 from {SCHEMA}.audience_holdout a
                where a.audience = h.audience and a.customer_id = h.customer_id
            )
            """,
            [holdout],
        )
        row = con.execute("select count(*) from _segmint_new_runs").fetchone()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    con.execute("drop table if exists _segmint_new_runs")
    purge_erased(con)
    return int(row[0]) if row else 0
