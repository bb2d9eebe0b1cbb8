"""Reading customer-level frames from the warehouse and writing model outputs back."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd


def read_frame(path: str, sql: str) -> pd.DataFrame:
    """Run one query read-only and return a DataFrame (customer- or series-level only)."""
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def read_optional(
    path: str, schema: str, table: str, sql: str | None = None
) -> pd.DataFrame | None:
    """A table from the working warehouse, or None when it does not exist yet."""
    con = duckdb.connect(path, read_only=True)
    try:
        if not table_exists(con, schema, table):
            return None
        return con.execute(sql or f'select * from "{schema}"."{table}"').df()
    finally:
        con.close()


def _jsonable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dicts and lists become JSON text so every column has a SQL type."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, dict | list)).any():
            out[col] = out[col].map(
                lambda v: (
                    json.dumps(v, default=str, sort_keys=True) if isinstance(v, dict | list) else v
                )
            )
    return out


def write_tables(
    path: str,
    replace: dict[str, pd.DataFrame],
    append: dict[str, pd.DataFrame] | None = None,
) -> dict[str, int]:
    """Replace and append tables in one transaction: all land or none do."""
    con = duckdb.connect(path)
    counts: dict[str, int] = {}
    try:
        con.execute("create schema if not exists ml")
        con.begin()
        try:
            for name, frame in replace.items():
                df = _jsonable(frame)  # noqa: F841 - referenced by name in SQL
                con.execute(f"create or replace table {name} as select * from df")
                counts[name] = len(frame)
            con.execute(MODEL_RUNS_DDL)
            for name, frame in (append or {}).items():
                df = _jsonable(frame)  # noqa: F841
                schema, table = name.split(".")
                if table_exists(con, schema, table):
                    con.execute(f"insert into {name} by name select * from df")
                else:
                    con.execute(f"create table {name} as select * from df")
                counts[name] = len(frame)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.close()
    return counts


def figures_metadata(figures: dict[str, Any], folder: Path) -> dict[str, dg.MetadataValue]:
    """Save each matplotlib figure as PNG and return metadata showing it in the UI."""
    folder.mkdir(parents=True, exist_ok=True)
    meta: dict[str, dg.MetadataValue] = {}
    for name, fig in figures.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        png = buf.getvalue()
        (folder / f"{name}.png").write_bytes(png)
        b64 = base64.b64encode(png).decode()
        meta[f"plot_{name}"] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{b64})")
        meta[f"plot_{name}_path"] = dg.MetadataValue.path(str(folder / f"{name}.png"))
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:
            pass
    return meta


MODEL_RUNS_DDL = """
create table if not exists ml.model_runs (
    model varchar, model_version varchar, trained_at timestamp, params json, metrics json,
    baseline_metrics json, data_window json, drift_profile json
)
"""

MODEL_RUN_COLUMNS = (
    "model",
    "model_version",
    "trained_at",
    "params",
    "metrics",
    "baseline_metrics",
    "data_window",
    "drift_profile",
)


def model_run_rows(record: dict[str, Any] | pd.DataFrame) -> pd.DataFrame:
    """One ml.model_runs row per record, in DESIGN's fixed schema (JSON text for dicts).

    Keys outside the schema (e.g. a forecast's data_window_start/end) fold into data_window.
    """
    records = record.to_dict("records") if isinstance(record, pd.DataFrame) else [record]
    rows = []
    for rec in records:
        rec = dict(rec)
        window = rec.pop("data_window", None)
        window = json.loads(window) if isinstance(window, str) and window else (window or {})
        extra = {k: rec.pop(k) for k in list(rec) if k not in MODEL_RUN_COLUMNS}
        window = {**window, **{k.removeprefix("data_window_"): v for k, v in extra.items()}}
        row: dict[str, Any] = {c: rec.get(c) for c in MODEL_RUN_COLUMNS}
        row["data_window"] = window
        ts = pd.Timestamp(row["trained_at"])
        row["trained_at"] = ts.tz_convert(None) if ts.tzinfo else ts
        for c in ("params", "metrics", "baseline_metrics", "data_window", "drift_profile"):
            v = row[c]
            row[c] = (
                v if v is None or isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(MODEL_RUN_COLUMNS))
