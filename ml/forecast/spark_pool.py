"""Running the fits on Spark: one group per fit, `groupBy(task).applyInPandas(...)` (the
pattern Databricks documents for many-model forecasting), with the same per-series function
as the local pool (ml.forecast.pool), so the results are the same fit for fit.

The histories travel as Spark rows (task, ds, y); each group rebuilds its Task and returns the
SeriesForecast pickled in one binary cell. pyspark is imported by the caller (who passes the
session); this module only uses the DataFrame API of what it is given.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import replace
from typing import Any

import pandas as pd

from ml.forecast.params import ForecastParams
from ml.forecast.series import Fitted

RESULT_SCHEMA = "task long, result binary"


def _rows(tasks: list[Any]) -> pd.DataFrame:
    """Every task's history as (task, ds, y) rows, plus one row with a null ds per task so a
    task with no history still forms a group."""
    frames = []
    for i, task in enumerate(tasks):
        history = task.history[["ds", "y"]]
        frames.append(
            pd.DataFrame(
                {
                    "task": i,
                    "ds": pd.concat([pd.Series([pd.NaT]), pd.to_datetime(history["ds"])]),
                    "y": pd.concat([pd.Series([float("nan")]), history["y"].astype("float64")]),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _fit_group(tasks: list[Any], params: ForecastParams):
    """The function applied to each group: the task's fit, as (task, pickled result)."""
    from ml.forecast.pool import _init_worker, _kept_numpy_rng, _run_task

    def fit(group: pd.DataFrame) -> pd.DataFrame:
        _init_worker()
        i = int(group["task"].iloc[0])
        task = tasks[i]
        rows = group[group["ds"].notna()].sort_values("ds")
        history = pd.DataFrame(
            {
                "ds": rows["ds"].to_numpy(dtype=task.history["ds"].dtype),
                "y": rows["y"].to_numpy().astype(task.history["y"].dtype),
            }
        )
        with _kept_numpy_rng():
            _, _, result = _run_task(replace(task, history=history), params)
        return pd.DataFrame({"task": [i], "result": [pickle.dumps(result)]})

    return fit


def run_on_spark(
    tasks: list[Any], params: ForecastParams, spark: Any
) -> tuple[Fitted, dict[str, Any]]:
    """The fits as Spark tasks (one group per fit, spread over the session's cores); returns
    the fitted forecasts and timings like the local pool's (CPU: this process only, the
    Python workers' CPU is Spark's)."""
    wall0, cpu0 = time.perf_counter(), os.times()
    # The histories carry only the fits' metadata by closure; the rows carry the data.
    light = [replace(t, history=t.history.iloc[0:0]) for t in tasks]
    frame = spark.createDataFrame(_rows(tasks), schema="task long, ds timestamp, y double")
    partitions = max(1, min(len(tasks), spark.sparkContext.defaultParallelism))
    results = (
        frame.repartition(partitions, "task")
        .groupBy("task")
        .applyInPandas(_fit_group(light, params), schema=RESULT_SCHEMA)
        .collect()
    )
    fitted: Fitted = {}
    for row in results:
        task = tasks[row["task"]]
        fitted[(task.series_key, task.cutoff)] = pickle.loads(row["result"])  # noqa: S301
    cpu1 = os.times()
    parent = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    timing = {
        "workers": partitions,
        "cpu_seconds": parent,
        "worker_cpu_seconds": [],
        "startup_seconds": 0.0,
        "parent_cpu_seconds": parent,
        "spark_wall_seconds": time.perf_counter() - wall0,
    }
    return fitted, timing
