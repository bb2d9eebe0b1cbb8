"""A customer-value run: evaluate on the time split, then fit on everything and score now."""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml import runs
from ml.runs import ModelRun
from ml.value import evaluation
from ml.value.model import FittedValue, fit, predict
from ml.value.params import HORIZON_DAYS, MODEL_NAME, SCORE_COLUMNS, ValueParams

CODE_MODULES = ("ml.value.params", "ml.value.model", "ml.value.evaluation", "ml.value.run")


@dataclass
class ValueResult:
    """What a value run writes back (scores, run) and what its figures need (calibration)."""

    scores: pd.DataFrame  # SCORE_COLUMNS -> ml.customer_value
    run: ModelRun  # -> ml.model_runs
    calibration: pd.DataFrame  # evaluation.calibration_by_decile of the time split
    fitted: FittedValue | None  # None when there was nothing to fit


def _empty_scores() -> pd.DataFrame:
    """ml.customer_value without rows, typed (customer_id text, the figures doubles)."""
    columns = {c: pd.Series(dtype=float) for c in SCORE_COLUMNS[1:-2]}
    return pd.DataFrame({"customer_id": pd.Series(dtype=str), **columns})


def _split(inputs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The as-of rows (scored) and the evaluation rows (fit for the time split), each in
    customer order: the mart's scan order varies from run to run, and sums, tie-breaks of
    the top decile and the calibration ranks must not."""
    order = np.argsort(inputs["customer_id"].astype(str).to_numpy(), kind="stable")
    ordered = inputs.iloc[order].reset_index(drop=True)
    kind = ordered["cutoff_kind"].astype(str)
    as_of, past = (ordered[kind == k].reset_index(drop=True) for k in ("as_of", "evaluation"))
    return as_of, past


def _evaluate(
    rows: pd.DataFrame, params: ValueParams
) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame]:
    """Fit at the evaluation cutoff, compare with the real window: model and run-rate metrics."""
    if rows.empty:
        return (
            {"evaluated": False, "reason": "no customer at the evaluation cutoff"},
            {},
            (evaluation.calibration_by_decile(np.array([]), {})),
        )
    window = int(rows["window_days"].iloc[0])
    try:
        fitted = fit(rows, params)
    except ValueError as exc:
        return (
            {"evaluated": False, "reason": str(exc)},
            {},
            evaluation.calibration_by_decile(np.array([]), {}),
        )
    predicted = predict(fitted, rows, params, full=False)
    actual = pd.to_numeric(rows["revenue_after"]).to_numpy(float)
    model_pred = predicted["predicted_revenue_90d"].to_numpy()
    baseline_pred = evaluation.run_rate(rows, window)
    purchases = pd.to_numeric(rows["purchase_days_after"]).to_numpy(float)
    metrics = {
        "evaluated": True,
        "window_days": window,
        "n_customers": len(rows),
        **evaluation.revenue_metrics(actual, model_pred),
        "purchases_mae": float(
            np.mean(np.abs(predicted["expected_purchases_90d"].to_numpy() - purchases))
        ),
        "interval_coverage_90d": evaluation.interval_coverage(
            actual,
            predicted["predicted_revenue_90d_lower"].to_numpy(),
            predicted["predicted_revenue_90d_upper"].to_numpy(),
        ),
    }
    baseline = {"run_rate": evaluation.revenue_metrics(actual, baseline_pred)}
    table = evaluation.calibration_by_decile(
        actual, {"model": model_pred, "run_rate": baseline_pred}, params.deciles
    )
    return metrics, baseline, table


def _version(params: ValueParams, window: dict[str, Any]) -> str:
    modules = [importlib.import_module(name) for name in CODE_MODULES]
    return runs.model_version(
        MODEL_NAME, params.to_json_dict(), window, runs.code_version(*modules)
    )


def run_customer_value(
    inputs: pd.DataFrame, params: ValueParams | None = None, run_at: datetime | None = None
) -> ValueResult:
    """Evaluate on the time split against run-rate, then score every customer as of now.

    `inputs` is marts.customer_value_inputs (both cutoffs).
    """
    params = params or ValueParams()
    run_at = run_at or datetime.now(UTC)
    started = time.perf_counter()
    current, past = _split(inputs)
    metrics, baseline, table = _evaluate(past, params)
    metrics["evaluation_seconds"] = round(time.perf_counter() - started, 3)
    try:
        fitted: FittedValue | None = fit(current, params)
    except ValueError as exc:  # no buyer yet, or too few repeat buyers: nothing to score
        fitted, metrics["not_scored"] = None, str(exc)
    scores = predict(fitted, current, params) if fitted else _empty_scores()
    as_of = current["as_of_date"].iloc[0] if len(current) else None
    window = {
        "as_of": as_of,
        "evaluation_cutoff": past["cutoff_date"].iloc[0] if len(past) else None,
        "horizon_days": HORIZON_DAYS,
        "n_customers": len(current),
    }
    version = _version(params, window)
    scored_at = pd.Timestamp(run_at).tz_convert(None) if pd.Timestamp(run_at).tzinfo else run_at
    scores = scores.assign(model_version=version, scored_at=pd.Timestamp(scored_at))
    metrics.update(
        {
            "seconds": round(time.perf_counter() - started, 3),
            "n_scored": len(scores),
            "n_repeat_customers": fitted.n_repeat_customers if fitted else 0,
            "parameters": fitted.parameters() if fitted else {},
            "predicted_revenue_90d_total": float(scores["predicted_revenue_90d"].sum()),
        }
    )
    run_params = {**params.to_json_dict(), "fit": "map + laplace (pymc_extras.fit_laplace)"}
    run = ModelRun(MODEL_NAME, version, run_at, run_params, metrics, baseline, window)
    return ValueResult(scores[list(SCORE_COLUMNS)], run, table, fitted)
