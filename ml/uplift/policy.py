"""Offline policy comparison: if only a share of each audience could be sent, whom to send?

A live readout of an uplift-targeted audience needs its outcome window (30 days) to pass.
Until then, the held-out members of past exports (the split the Qini is computed on, never
seen by the model) answer it offline: within each past export run, target the top `share`
of its held-out members by a score, and measure what the send realised among them: the
purchase rate of the treated (exported) minus that of the control (holdout) targeted
members. The holdout is a hash of customer id and audience, so within a run it is a
randomised experiment, and so is any subset chosen by a pre-send score.

Policies:
- uplift: the model's predicted uplift_purchase (held-out predictions);
- churn_risk: churn probability at send time when the frame has it (column
  churn_probability); marts.uplift_training does not, so the proxy is recency_days at send
  (days since the last order): the churn run's recency baseline is a logistic regression on
  log1p(recency_days), which ranks members the same way. Members who never ordered rank as
  the riskiest;
- random: everyone, which is what a random `share` realises in expectation.

The estimate is stratified by run (runs can hold out different shares): the runs' treated
minus control rates weighted by their targeted members, with a 95% normal-approximation
interval (Wald, difference of two proportions per run, as activation.holdout_readout).
Runs whose targeted members lack a treated or a control member are left out (counted).
Whether uplift beat churn risk: the difference of their realised uplifts (and uplift minus
everyone), with a paired bootstrap interval (held-out rows resampled, both policies scored
on each resample). Ties in a score are broken by a random order drawn from the seed; the
bootstrap draws from the seed too: deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ml.uplift.params import TREATMENT

POLICIES = ("uplift", "churn_risk", "random")
CHURN_SCORE = "churn_probability"
CHURN_PROXY = "recency_days"
Z95 = NormalDist().inv_cdf(0.975)


def churn_risk(frame: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    """The churn-risk score of each row (higher: riskier) and what it is, in words (None
    when the frame has neither column: that policy is then left out)."""
    if CHURN_SCORE in frame.columns and frame[CHURN_SCORE].notna().any():
        score = frame[CHURN_SCORE].astype(float).fillna(-np.inf).to_numpy()
        return score, f"{CHURN_SCORE} at send time"
    if CHURN_PROXY in frame.columns:
        score = frame[CHURN_PROXY].astype(float).fillna(np.inf).to_numpy()
        return score, (
            f"{CHURN_PROXY} at send (proxy: no churn probability at send time in "
            "marts.uplift_training; the churn run's recency baseline ranks the same way)"
        )
    return None, f"not compared: no {CHURN_SCORE} or {CHURN_PROXY} column"


def top_share(frame: pd.DataFrame, score: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Mask of the top `share` of each run's rows by score (ties in a seeded random order)."""
    score = np.asarray(score, dtype=float)
    tiebreak = np.random.default_rng(seed).random(len(frame))
    mask = np.zeros(len(frame), dtype=bool)
    for rows in frame.groupby("run_id", sort=True).indices.values():
        k = int(round(share * rows.size))
        order = np.lexsort((tiebreak[rows], -score[rows]))
        mask[rows[order[:k]]] = True
    return mask


@dataclass(frozen=True)
class Arms:
    """Held-out rows as arrays: run code, treated, purchased."""

    run: np.ndarray
    treated: np.ndarray
    bought: np.ndarray
    runs: int

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Arms:
        codes, uniques = pd.factorize(frame["run_id"].astype(str), sort=True)
        t = frame[TREATMENT].astype(bool).to_numpy()
        return cls(codes, t, frame["purchased"].astype(float).to_numpy(), len(uniques))


def _stratified(arms: Arms, rows: np.ndarray) -> tuple[float, float, int]:
    """(uplift, standard error, runs left out) of the rows (indexes, repeats allowed)."""
    run, t, y = arms.run[rows], arms.treated[rows], arms.bought[rows]
    size = {"minlength": arms.runs}
    n1, n0 = np.bincount(run[t], **size), np.bincount(run[~t], **size)
    s1 = np.bincount(run[t], weights=y[t], **size)
    s0 = np.bincount(run[~t], weights=y[~t], **size)
    ok = (n1 > 0) & (n0 > 0)
    left_out = int(((n1 + n0 > 0) & ~ok).sum())
    if not ok.any():
        return float("nan"), float("nan"), left_out
    n1, n0, p1, p0 = n1[ok], n0[ok], s1[ok] / n1[ok], s0[ok] / n0[ok]
    w = (n1 + n0) / float((n1 + n0).sum())
    se = np.sqrt((w**2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)).sum())
    return float((w * (p1 - p0)).sum()), float(se), left_out


def realised_uplift(frame: pd.DataFrame, mask: np.ndarray) -> dict[str, Any]:
    """Treated minus control purchase rate among the masked rows, stratified by run, with a
    95% interval and the incremental purchases per 1,000 targeted."""
    arms = Arms.of(frame)
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    t, y = arms.treated[rows], arms.bought[rows]
    uplift, se, left_out = _stratified(arms, rows)
    return {
        "n": int(rows.size),
        "n_treated": int(t.sum()),
        "n_control": int((~t).sum()),
        "rate_treated": float(y[t].mean()) if t.any() else float("nan"),
        "rate_control": float(y[~t].mean()) if (~t).any() else float("nan"),
        "runs_left_out": left_out,
        "uplift": uplift,
        "ci_low": uplift - Z95 * se,
        "ci_high": uplift + Z95 * se,
        "per_1000": 1000.0 * uplift,
    }


def difference_interval(
    frame: pd.DataFrame, first: np.ndarray, second: np.ndarray, rounds: int, seed: int
) -> tuple[float, float, float]:
    """Realised uplift of `first` minus that of `second` (masks over the same rows), with a
    95% paired bootstrap interval: rows resampled with replacement, both policies kept."""
    arms = Arms.of(frame)
    picks = (np.flatnonzero(first), np.flatnonzero(second))
    point = _stratified(arms, picks[0])[0] - _stratified(arms, picks[1])[0]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(rounds):
        weight = np.bincount(rng.integers(0, len(frame), len(frame)), minlength=len(frame))
        a, b = (np.repeat(p, weight[p]) for p in picks)
        draws.append(_stratified(arms, a)[0] - _stratified(arms, b)[0])
    finite = np.asarray(draws)[np.isfinite(draws)]
    low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan)
    return float(point), float(low), float(high)


def compare_policies(
    held: pd.DataFrame, share: float, seed: int, rounds: int = 200
) -> dict[str, Any]:
    """Flat metrics policy_<name>_<figure> of the three policies on held-out rows with
    predictions; policy_uplift_minus_<other> (point, ci_low, ci_high: paired bootstrap);
    policy_share and policy_churn_risk_by (what churn risk ranked by)."""
    risk, described = churn_risk(held)
    masks = {
        "uplift": top_share(held, held["uplift_purchase"].to_numpy(), share, seed),
        "churn_risk": None if risk is None else top_share(held, risk, share, seed),
        "random": np.ones(len(held), dtype=bool),
    }
    metrics: dict[str, Any] = {"policy_share": share, "policy_churn_risk_by": described}
    for name, mask in masks.items():
        if mask is None:
            continue
        for key, value in realised_uplift(held, mask).items():
            metrics[f"policy_{name}_{key}"] = value
        if name != "uplift":
            point, low, high = difference_interval(held, masks["uplift"], mask, rounds, seed)
            key = f"policy_uplift_minus_{name}"
            metrics[key], metrics[f"{key}_ci_low"], metrics[f"{key}_ci_high"] = point, low, high
    return metrics


def policy_table(metrics: dict[str, Any]) -> str:
    """Markdown table of the three policies' realised uplift (for the asset's metadata)."""
    share = metrics["policy_share"]
    lines = [
        f"Held-out members of past exports; top {share:.0%} of each run by the score "
        "(random: everyone). Realised uplift = treated - control purchase rate.",
        "",
        "| policy | targeted | treated / control | realised uplift (95% CI) | "
        "incremental purchases per 1,000 |",
        "|---|---|---|---|---|",
    ]
    for name in POLICIES:
        m = {k: metrics.get(f"policy_{name}_{k}") for k in ("n", "n_treated", "n_control")}
        u, lo, hi = (metrics.get(f"policy_{name}_{k}") for k in ("uplift", "ci_low", "ci_high"))
        known = u is not None and not np.isnan(u)
        figure = f"{u:+.4f} ({lo:+.4f}, {hi:+.4f})" if known else "n/a"
        per = f"{1000 * u:+.1f} ({1000 * lo:+.1f}, {1000 * hi:+.1f})" if known else "n/a"
        lines.append(
            f"| {name} | {m['n']} | {m['n_treated']} / {m['n_control']} | {figure} | {per} |"
        )
    lines.append("")
    for other in ("churn_risk", "random"):
        d, lo, hi = (
            metrics.get(f"policy_uplift_minus_{other}{k}") for k in ("", "_ci_low", "_ci_high")
        )
        if d is not None and not np.isnan(d):
            lines.append(
                f"uplift minus {other}: {d:+.4f} (95% paired bootstrap {lo:+.4f}, {hi:+.4f})"
            )
    lines += ["", f"churn risk ranked by: {metrics['policy_churn_risk_by']}"]
    return "\n".join(lines)
