"""Training examples and splits: labelled (customer, cutoff) rows, the held-out window, the
calibration rows the trees never see, and a stratified sample above the training-row cap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import features
from ml.churn.params import ChurnParams


def day(values: pd.Series) -> pd.Series:
    """Dates (or timestamps) as naive midnight timestamps."""
    return pd.to_datetime(values).dt.tz_localize(None).dt.normalize()


def build_examples(history: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """History rows joined to their labels (inner join on customer_id, cutoff_date), prepared."""
    missing = {"customer_id", "cutoff_date", "churned"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels lack columns {sorted(missing)}")
    h = history.copy()
    h["cutoff_date"] = day(h["cutoff_date"])
    lab = labels[["customer_id", "cutoff_date", "churned"]].copy()
    lab["cutoff_date"] = day(lab["cutoff_date"])
    lab["churned"] = lab["churned"].astype(int)
    merged = h.merge(lab, on=["customer_id", "cutoff_date"], how="inner", validate="one_to_one")
    merged = merged.sort_values(["cutoff_date", "customer_id"], kind="mergesort")
    prepared = features.prepare(merged.reset_index(drop=True))
    prepared["eligible"] = features.is_purchaser(prepared).to_numpy()
    return prepared


def time_split(cutoffs: list[pd.Timestamp], horizon_days: int) -> tuple[list, pd.Timestamp | None]:
    """Training cutoffs (label window ends by the evaluation cutoff) and the evaluation cutoff."""
    ordered = sorted(set(cutoffs))
    if len(ordered) < 2:
        return ordered, None
    eval_cutoff = ordered[-1]
    horizon = pd.Timedelta(days=horizon_days)
    train = [c for c in ordered if c + horizon <= eval_cutoff]
    if not train:
        return ordered, None
    return train, eval_cutoff


def customer_split(customer_ids: pd.Series, fraction: float, seed: int) -> np.ndarray:
    """True for the rows of a random `fraction` of customers (all rows of a customer together)."""
    ids = customer_ids.astype(str)
    unique = np.sort(ids.unique())
    n_out = int(round(fraction * len(unique)))
    if n_out < 1 or n_out >= len(unique):
        return np.zeros(len(ids), dtype=bool)
    chosen = np.random.default_rng(seed).choice(unique, size=n_out, replace=False)
    return ids.isin(chosen).to_numpy()


def both_classes(y: np.ndarray) -> bool:
    """True when the labels hold both classes."""
    return len(np.unique(y)) == 2


def calibration_rows(ex: pd.DataFrame, params: ChurnParams) -> tuple[np.ndarray, str]:
    """Rows held out of tree training to fit the calibration map, and how they were chosen.

    "grouped": params.calibration_fraction of the customers (a customer's rows at several
    cutoffs never sit on both sides). "time": the latest training cutoff t that has earlier
    rows whose label window ends by t; the trees then train on those earlier rows only
    (falls back to "grouped" when there is no such cutoff). Either way the calibration rows
    lie inside the training window, never in the held-out window or after it.
    """
    y = ex["churned"].to_numpy()
    if params.calibration_cv == "time":
        cut = ex["cutoff_date"].to_numpy()
        horizon = np.timedelta64(params.horizon_days, "D")
        for t in sorted(set(cut), reverse=True):
            train, cal = cut + horizon <= t, cut == t
            if train.any() and both_classes(y[train]) and both_classes(y[cal]):
                return cal, "time"
    cal = customer_split(ex["customer_id"], params.calibration_fraction, params.seed)
    if cal.any() and both_classes(y[cal]) and both_classes(y[~cal]):
        return cal, "grouped"
    return np.zeros(len(ex), dtype=bool), "none"


def stratified_subsample(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted row positions of a sample of `size` rows, proportional within each stratum."""
    n = len(strata)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    for value in np.unique(strata):
        rows = np.flatnonzero(strata == value)
        take = int(round(size * len(rows) / n))
        keep.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(keep))
