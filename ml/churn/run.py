"""A churn run: train on history cutoffs, evaluate on the latest labelled window, score now."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ml import evaluation, features, runs
from ml import registry as registry_
from ml.churn.baselines import BASELINES
from ml.churn.examples import build_examples, day, time_split
from ml.churn.holdout import Holdout, evaluate_holdout, holdout_rows
from ml.churn.model import ChurnModel, fit_churn_model
from ml.churn.params import ELIGIBILITY, MODEL_NAME, ChurnParams
from ml.churn.scoring import CurrentScores, prospect_rate, score_current
from ml.runs import ModelRun

# The code a churn model_version hashes: every module whose change can change the scores.
CODE_MODULES = (
    *(f"ml.churn.{name}" for name in ("params", "examples", "model", "baselines", "holdout")),
    *(f"ml.churn.{name}" for name in ("wording", "drivers", "scoring", "run")),
    "ml.features",
    "ml.evaluation",
)


@dataclass
class ChurnResult:
    """Everything a churn run produces, ready to write back (figures: ml.plots.churn)."""

    scores: pd.DataFrame
    run: ModelRun
    fairness: pd.DataFrame
    drift: pd.DataFrame
    holdout: pd.DataFrame
    model: ChurnModel

    @property
    def metrics(self) -> dict[str, Any]:
        """The model's metrics on the held-out window and about the final fit."""
        return dict(self.run.metrics)

    @property
    def drift_profile(self) -> dict[str, Any]:
        """Reference distributions of this run's features and score (for the next run's PSI)."""
        return dict(self.run.drift_profile or {})

    def holdout_scores(self) -> dict[str, np.ndarray]:
        """Held-out probabilities of the model and each baseline ("model", "recency", ...)."""
        if self.holdout.empty:
            return {}
        out = {"model": self.holdout["churn_probability"].to_numpy()}
        for name in BASELINES:
            if f"{name}_probability" in self.holdout:
                out[name] = self.holdout[f"{name}_probability"].to_numpy()
        return out


def train_and_score_churn(
    history: pd.DataFrame,
    labels: pd.DataFrame,
    current: pd.DataFrame,
    params: ChurnParams | None = None,
    previous_drift_profile: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    registry: tuple[registry_.ModelStore, registry_.Policy] | None = None,
    log: Callable[[str], None] = print,
) -> ChurnResult:
    """Train on history cutoffs, evaluate on the latest labelled window, score `current`.

    With a `registry` (store, policy) the run scores with the stored champion unless a
    retrain is due (ml.registry.select); without one it always trains.
    """
    params = params or ChurnParams()
    with threadpool_limits(limits=params.threads):
        run_at = run_at or datetime.now(UTC)
        features.check_point_in_time(history)
        family = _family(history, labels, current, params)
        selection = registry_.choose(family, registry, log)
        return _score(selection, current, params, previous_drift_profile, run_at)


def _as_of(current: pd.DataFrame) -> pd.Timestamp | None:
    if "as_of_date" in current.columns and current["as_of_date"].notna().any():
        return day(current["as_of_date"]).max()
    return None


@dataclass
class ChurnFit:
    """What a churn champion stores: the final and held-out models and their record."""

    final: ChurnModel
    holdout: Holdout  # metrics, baselines, held-out rows (no customer ids) and model
    prospect_rate: float | None
    window: dict[str, Any]
    reference: dict[str, Any]  # drift profile of the inputs it was trained to score

    def drift_frame(self, prepared: pd.DataFrame) -> pd.DataFrame:
        """The model's inputs of prepared customer rows (what `reference` profiles)."""
        return self.final.spec.frame(prepared)


def _family(
    history: pd.DataFrame, labels: pd.DataFrame, current: pd.DataFrame, params: ChurnParams
) -> registry_.Family:
    """The churn model as ml.registry sees it: how to fit, evaluate and check drift."""
    labelled = build_examples(history, labels)
    as_of = _as_of(current)
    if as_of is not None:
        labelled = labelled[
            labelled["cutoff_date"] + pd.Timedelta(days=params.horizon_days) <= as_of
        ]
    eligible = labelled[labelled["eligible"]].reset_index(drop=True)
    if eligible.empty:
        raise ValueError("no labelled customers with a purchase before any cutoff")
    code = runs.code_version(*map(importlib.import_module, CODE_MODULES))
    prepared = features.prepare(current)

    def fit() -> registry_.Fitted:
        return _fit(eligible, labelled, prepared, as_of, params, code)

    def evaluate(champion: ChurnFit, challenger: registry_.Fitted) -> float | None:
        rows = challenger.context
        model = champion.holdout.model
        if model is None or not len(rows) or rows["churned"].nunique() != 2:
            return None
        prob = model.predict(rows)
        return evaluation.classification_metrics(rows["churned"].to_numpy(), prob)["roc_auc"]

    return registry_.Family(
        model=MODEL_NAME,
        metric="roc_auc",
        fit=fit,
        evaluate=evaluate,
        code=code,
        as_of=as_of,
        inputs=prepared,
        horizon_days=params.horizon_days,
        write=_write,
    )


def _write(fit: ChurnFit, folder: Path) -> None:
    """Store the fit without customer ids (the held-out rows keep labels and groups only)."""
    frame = fit.holdout.frame.drop(columns=["customer_id"], errors="ignore")
    registry_.joblib_write(replace(fit, holdout=replace(fit.holdout, frame=frame)), folder)


def _fit(
    eligible: pd.DataFrame,
    labelled: pd.DataFrame,
    prepared: pd.DataFrame,
    as_of: pd.Timestamp | None,
    params: ChurnParams,
    code: str,
) -> registry_.Fitted:
    """Evaluate the recipe on the latest labelled window, then refit it on every cutoff."""
    train_cutoffs, eval_cutoff = time_split(
        list(eligible["cutoff_date"].unique()), params.horizon_days
    )
    held = evaluate_holdout(eligible, train_cutoffs, eval_cutoff, params)
    final = fit_churn_model(eligible, params)
    window = _data_window(as_of, params, train_cutoffs, eval_cutoff, final, eligible, held)
    window["eligibility"] = ELIGIBILITY
    params_dict = asdict(params)
    version = runs.model_version(MODEL_NAME, params_dict, window, code)
    reference = evaluation.drift_profile(
        final.spec.frame(prepared), list(final.spec.columns), params.psi_bins
    )
    payload = ChurnFit(final, held, prospect_rate(labelled), window, reference)
    meta = {"as_of": as_of, "window": window, "params": params_dict, "code_version": code}
    meta["metrics"] = held.metrics
    return registry_.Fitted(
        payload, version, held.metrics.get("roc_auc"), meta, holdout_rows(eligible, eval_cutoff)
    )


def _score(
    selection: registry_.Selection,
    current: pd.DataFrame,
    params: ChurnParams,
    previous_drift_profile: dict[str, Any] | None,
    run_at: datetime,
) -> ChurnResult:
    """Score `current` with the selected model; the run record carries the decision."""
    fit: ChurnFit = selection.payload
    final, held, version = fit.final, fit.holdout, selection.version
    scored = score_current(final, current, fit.prospect_rate, params)
    window = {**fit.window, "n_scored": len(scored.customers)}
    scores = scored.table(params, version, run_at)
    fairness = _fairness(scores, scored, held, params).assign(
        model_version=version, scored_at=run_at
    )
    profile, drift = _drift(final, scored, previous_drift_profile, params)
    drift = drift.assign(model_version=version, scored_at=run_at)
    metrics = {
        **held.metrics,
        "calibration_split": final.calibration_split,
        **final.info,
        "prospect_rate": scored.prospect_rate,
        "prospect_scoring": scored.prospect_scoring,
        "risk_band_counts": scores["risk_band"].value_counts().sort_index().to_dict(),
        "fairness_flags": int(fairness["flagged"].sum()) if len(fairness) else 0,
        "drift_warnings": int((drift["status"] == "warn").sum()) if len(drift) else 0,
        "features": final.spec.columns,
    }
    run = ModelRun(
        MODEL_NAME,
        version,
        run_at,
        asdict(params),
        metrics,
        held.baseline_metrics,
        window,
        profile,
        selection.decision,
    )
    return ChurnResult(scores, run, fairness, drift, held.frame, final)


def _data_window(
    as_of: pd.Timestamp | None,
    params: ChurnParams,
    train_cutoffs: list,
    eval_cutoff: pd.Timestamp | None,
    final: ChurnModel,
    eligible: pd.DataFrame,
    held: Holdout,
) -> dict[str, Any]:
    """Which cutoffs trained, evaluated and fitted the final model, and how many rows each."""
    evaluated = eval_cutoff is not None
    return {
        "as_of": as_of,
        "horizon_days": params.horizon_days,
        "train_cutoffs": [str(pd.Timestamp(c).date()) for c in train_cutoffs] if evaluated else [],
        "eval_cutoff": str(eval_cutoff.date()) if evaluated else None,
        "final_cutoffs": final.cutoffs,
        "n_train": int((eligible["cutoff_date"] != eval_cutoff).sum()) if evaluated else 0,
        "n_eval": len(held.frame),
        "n_final": len(eligible),
    }


def _fairness(
    scores: pd.DataFrame, scored: CurrentScores, held: Holdout, params: ChurnParams
) -> pd.DataFrame:
    """The fairness audit of today's scores (and of the held-out window's AUC by group)."""
    attrs = features.frame_columns(scored.customers, params.fairness_attributes)
    audit_frame = pd.concat([scores[["churn_probability"]], scored.customers[attrs]], axis=1)
    return evaluation.fairness_audit(
        audit_frame,
        attrs,
        positive_threshold=params.risk_bands[1],
        holdout=held.frame if len(held.frame) else None,
        gap_threshold=params.fairness_gap,
        auc_gap_threshold=params.fairness_auc_gap,
        min_group_size=params.fairness_min_group,
    )


def _drift(
    final: ChurnModel,
    scored: CurrentScores,
    previous_profile: dict[str, Any] | None,
    params: ChurnParams,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """This run's drift profile of the model inputs and score, and PSI against the previous."""
    frame = final.spec.frame(scored.customers)
    frame["churn_probability"] = scored.probability
    profile = evaluation.drift_profile(frame, list(frame.columns), params.psi_bins)
    return profile, evaluation.feature_drift(previous_profile, frame, params.psi_warn)
