"""One record per model run (the fixed schema of ``ml.model_runs``), deterministic JSON and ids.

Every model returns a :class:`ModelRun`; orchestration appends ``ModelRun.to_row()`` to
``ml.model_runs``. Versions are deterministic: the same params, data window and code give
the same ``model_version``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from importlib import metadata
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ModelRun:
    """What one run of a model records: which model and version, with what, and how well."""

    model: str
    model_version: str
    trained_at: datetime
    params: Mapping[str, Any]
    metrics: Mapping[str, Any]
    baseline_metrics: Mapping[str, Any]
    data_window: Mapping[str, Any]
    drift_profile: Mapping[str, Any] | None = None
    # The registry's decision (ml.registry): first_run, promoted, kept_champion or
    # scored_with_champion, why, and the challenger's and champion's held-out metrics.
    decision: Mapping[str, Any] | None = None

    def to_row(self) -> dict[str, Any]:
        """The ml.model_runs row: JSON text for the mappings, trained_at as naive UTC."""
        ts = pd.Timestamp(self.trained_at)
        row: dict[str, Any] = {
            "model": self.model,
            "model_version": self.model_version,
            "trained_at": ts.tz_convert(None) if ts.tzinfo else ts,
        }
        for name in JSON_COLUMNS:
            value = getattr(self, name)
            row[name] = None if value is None else to_json(value)
        return row


MODEL_RUN_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ModelRun))
JSON_COLUMNS: tuple[str, ...] = MODEL_RUN_COLUMNS[3:]  # params ... decision


def model_runs_frame(runs: Iterable[ModelRun]) -> pd.DataFrame:
    """ml.model_runs rows of the given runs, columns in the table's order."""
    return pd.DataFrame([run.to_row() for run in runs], columns=list(MODEL_RUN_COLUMNS))


# --- deterministic JSON and versions -------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, NaN as null, dates as ISO strings)."""
    return json.dumps(_jsonable(value), sort_keys=True, allow_nan=False)


def code_version(*modules: ModuleType) -> str:
    """Package version plus a hash of the given modules' source code."""
    try:
        pkg = metadata.version("segmint")
    except metadata.PackageNotFoundError:
        pkg = "0"
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    return f"{pkg}+{digest.hexdigest()[:10]}"


def model_version(
    model: str, params: Mapping[str, Any], data_window: Mapping[str, Any], code: str
) -> str:
    """Deterministic id: hash of model name, params, data window and code version."""
    payload = to_json({"model": model, "params": params, "window": data_window, "code": code})
    return f"{model}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"
