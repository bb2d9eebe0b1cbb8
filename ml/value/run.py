"""A customer-value run: the champion scores every customer as of now; when a retrain is due
(ml.registry) a challenger is evaluated on the time split and fitted on everything first."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml import evaluation as shared_evaluation
from ml import registry as registry_
from ml import runs
from ml.runs import ModelRun
from ml.value import evaluation
from ml.value.model import Draws, draws_of, fit, from_draws, model_frame, predict
from ml.value.params import HORIZON_DAYS, MODEL_NAME, SCORE_COLUMNS, ValueParams

CODE_MODULES = ("ml.value.params", "ml.value.model", "ml.value.evaluation", "ml.value.run")
# The model inputs whose drift (PSI against the champion's training rows) triggers a retrain.
DRIFT_COLUMNS = ("frequency", "recency", "T", "monetary_value")


@dataclass
class ValueResult:
    """What a value run writes back (scores, run) and what its figures need (calibration)."""

    scores: pd.DataFrame  # SCORE_COLUMNS -> ml.customer_value
    run: ModelRun  # -> ml.model_runs
    calibration: pd.DataFrame  # evaluation.calibration_by_decile of the time split


@dataclass
class ValueFit:
    """What a value champion stores (no customer rows): the population parameter draws of the
    fit on everything (scores customers as of any later day) and of the time-split fit (scores
    a challenger's evaluation window in the gate), with its metrics and calibration."""

    params: dict[str, Any]
    final: Draws | None  # None: nothing could be fitted (no buyer, < 2 repeat buyers)
    evaluation: Draws | None
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    calibration: pd.DataFrame
    window: dict[str, Any]
    n_repeat_customers: int
    parameters: dict[str, float]
    reference: dict[str, Any]  # drift profile of the rows it was fitted on

    def drift_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        return model_frame(rows)[list(DRIFT_COLUMNS)]


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


def _no_evaluation(reason: str) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame, None]:
    empty = evaluation.calibration_by_decile(np.array([]), {})
    return {"evaluated": False, "reason": reason}, {}, empty, None


def _window_metrics(predicted: pd.DataFrame, rows: pd.DataFrame) -> dict[str, Any]:
    """The model's revenue metrics on the evaluation window's real revenue."""
    actual = pd.to_numeric(rows["revenue_after"]).to_numpy(float)
    return evaluation.revenue_metrics(actual, predicted["predicted_revenue_90d"].to_numpy())


def _evaluate(
    rows: pd.DataFrame, params: ValueParams
) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame, Draws | None]:
    """Fit at the evaluation cutoff, compare with the real window: model and run-rate
    metrics, the calibration table and the time-split fit's draws."""
    if rows.empty:
        return _no_evaluation("no customer at the evaluation cutoff")
    window = int(rows["window_days"].iloc[0])
    try:
        fitted = fit(rows, params)
    except ValueError as exc:
        return _no_evaluation(str(exc))
    predicted = predict(fitted, rows, params, full=False)
    actual = pd.to_numeric(rows["revenue_after"]).to_numpy(float)
    model_pred = predicted["predicted_revenue_90d"].to_numpy()
    baseline_pred = evaluation.run_rate(rows, window)
    purchases = pd.to_numeric(rows["purchase_days_after"]).to_numpy(float)
    metrics = {
        "evaluated": True,
        "window_days": window,
        "n_customers": len(rows),
        **_window_metrics(predicted, rows),
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
    return metrics, baseline, table, draws_of(fitted)


def _code() -> str:
    return runs.code_version(*(importlib.import_module(name) for name in CODE_MODULES))


def _fit_challenger(
    current: pd.DataFrame, past: pd.DataFrame, params: ValueParams, code: str
) -> registry_.Fitted:
    """Evaluate on the time split, then fit on every customer as of now."""
    started = time.perf_counter()
    metrics, baseline, table, evaluation_draws = _evaluate(past, params)
    metrics["evaluation_seconds"] = round(time.perf_counter() - started, 3)
    try:
        fitted = fit(current, params)
    except ValueError as exc:  # no buyer yet, or too few repeat buyers: nothing to score
        fitted, metrics["not_scored"] = None, str(exc)
    window = {
        "as_of": current["as_of_date"].iloc[0] if len(current) else None,
        "evaluation_cutoff": past["cutoff_date"].iloc[0] if len(past) else None,
        "horizon_days": HORIZON_DAYS,
        "n_customers": len(current),
    }
    run_params = params.to_json_dict()
    version = runs.model_version(MODEL_NAME, run_params, window, code)
    reference = shared_evaluation.drift_profile(
        model_frame(current), list(DRIFT_COLUMNS) if len(current) else []
    )
    payload = ValueFit(
        run_params, draws_of(fitted) if fitted else None, evaluation_draws, metrics, baseline,
        table, window, fitted.n_repeat_customers if fitted else 0,
        fitted.parameters() if fitted else {}, reference,
    )  # fmt: skip
    meta = {"as_of": window["as_of"], "window": window, "params": run_params, "metrics": metrics}
    return registry_.Fitted(payload, version, metrics.get("spearman"), meta, past)


def _champion_spearman(
    champion: ValueFit, challenger: registry_.Fitted, params: ValueParams
) -> float | None:
    """The champion's time-split fit (fitted before its own evaluation cutoff, so before the
    challenger's) scored on the challenger's evaluation window."""
    rows: pd.DataFrame = challenger.context
    if champion.evaluation is None or rows is None or rows.empty:
        return None
    try:
        fitted = from_draws(champion.evaluation, rows, params)
    except ValueError:
        return None
    return _window_metrics(predict(fitted, rows, params, full=False), rows)["spearman"]


def _family(current: pd.DataFrame, past: pd.DataFrame, params: ValueParams) -> registry_.Family:
    """Customer value as ml.registry sees it."""
    code = _code()
    run_params = params.to_json_dict()

    def compatible(champion: ValueFit) -> str | None:
        if champion.params != run_params:
            return "params_changed"
        return "nothing_fitted" if champion.final is None else None

    return registry_.Family(
        MODEL_NAME, "spearman", lambda: _fit_challenger(current, past, params, code),
        lambda champion, challenger: _champion_spearman(champion, challenger, params),
        code, current["as_of_date"].iloc[0] if len(current) else None,
        inputs=current if len(current) else None, compatible=compatible,
        horizon_days=HORIZON_DAYS,
    )  # fmt: skip


def run_customer_value(
    inputs: pd.DataFrame,
    params: ValueParams | None = None,
    run_at: datetime | None = None,
    registry: tuple[registry_.ModelStore, registry_.Policy] | None = None,
    log: Callable[[str], None] = print,
) -> ValueResult:
    """Score every customer as of now with the champion, or (first run, retrain due, no
    registry) evaluate a challenger on the time split against run-rate and fit it first.

    `inputs` is marts.customer_value_inputs (both cutoffs).
    """
    params = params or ValueParams()
    run_at = run_at or datetime.now(UTC)
    started = time.perf_counter()
    current, past = _split(inputs)
    selection = registry_.choose(_family(current, past, params), registry, log)
    chosen: ValueFit = selection.payload
    metrics = dict(chosen.metrics)
    scores = _empty_scores()
    if chosen.final is not None and len(current):
        try:
            scores = predict(from_draws(chosen.final, current, params), current, params)
        except ValueError as exc:
            metrics["not_scored"] = str(exc)
    scored_at = pd.Timestamp(run_at).tz_convert(None) if pd.Timestamp(run_at).tzinfo else run_at
    scores = scores.assign(model_version=selection.version, scored_at=pd.Timestamp(scored_at))
    metrics.update(
        {
            "seconds": round(time.perf_counter() - started, 3),
            "n_scored": len(scores),
            "n_repeat_customers": chosen.n_repeat_customers,
            "parameters": chosen.parameters,
            "predicted_revenue_90d_total": float(scores["predicted_revenue_90d"].sum()),
        }
    )
    as_of = current["as_of_date"].iloc[0] if len(current) else None
    window = {**chosen.window, "scored_as_of": as_of, "n_scored": len(scores)}
    run_params = {**chosen.params, "fit": "map + laplace (pymc_extras.fit_laplace)"}
    run = ModelRun(
        MODEL_NAME, selection.version, run_at, run_params, metrics, chosen.baseline, window,
        None, selection.decision,
    )  # fmt: skip
    return ValueResult(scores[list(SCORE_COLUMNS)], run, chosen.calibration)
