"""Reading customer-level frames from the warehouse and writing model outputs back."""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import pandas as pd

from ml.runs import MODEL_RUN_COLUMNS
from segmint.fs import atomic_file

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MODEL_RUN_TYPES = {"model": "varchar", "model_version": "varchar", "trained_at": "timestamp"}
# ml.model_runs in ModelRun's column order; params, metrics and the other mappings are JSON.
MODEL_RUNS_DDL = (
    "create table if not exists ml.model_runs ("
    + ", ".join(f"{c} {_MODEL_RUN_TYPES.get(c, 'json')}" for c in MODEL_RUN_COLUMNS)
    + ")"
)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """True when schema.table exists in the connected database."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def read_frame(path: Any, sql: str) -> pd.DataFrame:
    """Run one query read-only and return a DataFrame (customer- or series-level only).

    `path`: the DuckDB file, or the WarehouseResource (read through its engine: DuckDB or
    Spark, orchestration.lib.engine)."""
    if hasattr(path, "engine_io"):
        return path.engine_io().read_frame(sql)
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(sql).df()


def read_optional(
    path: Any, schema: str, table: str, sql: str | None = None
) -> pd.DataFrame | None:
    """A table (or `sql` over it) from the working warehouse; None when it does not exist yet
    (`path`: the DuckDB file or the WarehouseResource, as for read_frame)."""
    if hasattr(path, "engine_io"):
        return path.engine_io().read_optional(schema, table, sql)
    with duckdb.connect(path, read_only=True) as con:
        if not table_exists(con, schema, table):
            return None
        return con.execute(sql or f'select * from "{schema}"."{table}"').df()


def jsonable(frame: pd.DataFrame) -> pd.DataFrame:
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
    counts: dict[str, int] = {}
    with duckdb.connect(path) as con:
        con.execute("create schema if not exists ml")
        con.begin()
        try:
            con.execute(MODEL_RUNS_DDL)
            # warehouses from before the model registry have no decision column yet
            con.execute("alter table ml.model_runs add column if not exists decision json")
            for name, frame in {**replace, **(append or {})}.items():
                df = jsonable(frame)  # noqa: F841 - referenced by name in SQL
                schema, table = name.split(".")
                if name in replace:
                    con.execute(f"create or replace table {name} as select * from df")
                elif table_exists(con, schema, table):
                    con.execute(f"insert into {name} by name select * from df")
                else:
                    con.execute(f"create table {name} as select * from df")
                counts[name] = len(frame)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return counts


def _column_type(frame: pd.DataFrame, col: str) -> str:
    """The SQL type DuckDB gives the column when the frame is written (write_tables)."""
    dtype = frame[col].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    sample = frame[col].dropna()
    first = sample.iloc[0] if len(sample) else None
    if isinstance(first, dict | list):
        return "json"
    if first is not None and hasattr(first, "isoformat") and not isinstance(first, str):
        return "date"
    return "varchar"


def column_schema(frame: pd.DataFrame) -> dg.TableSchema:
    """`dagster/column_schema` of a model output: its columns and their SQL types."""
    return dg.TableSchema(
        columns=[dg.TableColumn(str(c), _column_type(frame, c)) for c in frame.columns]
    )


def _run_folder_name(run_id: str | None) -> str:
    """A sortable folder name for this run's plots: UTC time, then the Dagster run id's head."""
    if run_id is None:
        try:
            run_id = dg.AssetExecutionContext.get().run_id
        except dg.DagsterInvariantViolationError:  # called outside an asset
            run_id = None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{run_id[:8]}" if run_id else stamp


def _claim_run_folder(runs: Path, name: str) -> Path:
    """Create runs/<name> (runs/<name>-2, ... when taken): a run never writes into another's."""
    runs.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = runs / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"no free run folder for {name} under {runs}")


def _point_latest(folder: Path, run: Path) -> None:
    """Make <folder>/latest a relative symlink to `run`, swapped in atomically (a temp link
    renamed over it); where symlinks fail, <folder>/latest.txt names the run instead."""
    target = run.relative_to(folder)
    tmp = folder / f".latest.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.symlink_to(target, target_is_directory=True)
        os.replace(tmp, folder / "latest")
    except OSError:
        tmp.unlink(missing_ok=True)
        with atomic_file(folder / "latest.txt") as (fh, _):
            fh.write(f"{target.as_posix()}\n".encode())
        return
    (folder / "latest.txt").unlink(missing_ok=True)  # a stale pointer from a symlink-less run


def figures_metadata(
    figures: dict[str, Figure], folder: Path, run_id: str | None = None
) -> dict[str, dg.MetadataValue]:
    """Save each figure as <folder>/runs/<run>/<name>.png, point <folder>/latest at that run,
    and return metadata showing the figures in the UI.

    <run> is the UTC time and the Dagster run id (`run_id`, or the current asset's). Each PNG
    is written to a temp name and renamed, `latest` moves only once all are in place, and
    earlier runs' folders are kept.
    """
    from ml.plots.style import to_png  # matplotlib: imported when a model has run, not at load

    meta: dict[str, dg.MetadataValue] = {}
    if not figures:
        return meta
    run = _claim_run_folder(folder / "runs", _run_folder_name(run_id))
    for name, fig in figures.items():
        png = to_png(fig)
        with atomic_file(run / f"{name}.png") as (fh, _):
            fh.write(png)
        b64 = base64.b64encode(png).decode()
        meta[f"plot_{name}"] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{b64})")
        meta[f"plot_{name}_path"] = dg.MetadataValue.path(str(run / f"{name}.png"))
    _point_latest(folder, run)
    return meta
