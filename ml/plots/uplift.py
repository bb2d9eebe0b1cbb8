"""Figures of an uplift run: the Qini curve of the model against random targeting, and the
offline policy comparison (realised uplift of the top share by uplift, by churn risk, of
everyone) on the held-out members."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ml.plots.style import REFERENCE_LINE, headline
from ml.uplift.policy import POLICIES
from ml.uplift.qini import qini_curve
from ml.uplift.run import UpliftResult


def figures(result: UpliftResult) -> dict[str, Figure]:
    """Qini curves of the held-out members (purchase, revenue) and the policy comparison."""
    return {
        "qini_purchase": qini(result, "purchased", "uplift_purchase", "incremental purchasers"),
        "qini_revenue": qini(result, "revenue", "uplift_revenue", "incremental revenue"),
        "uplift_policies": policies(result.run.metrics),
    }


POLICY_WORDS = {
    "uplift": "by uplift",
    "churn_risk": "by churn risk",
    "random": "everyone (= random)",
}


def policies(metrics: dict) -> Figure:
    """Realised uplift (treated - control purchase rate) of each policy's targeted held-out
    members, with its 95% interval; the title says whether uplift beat churn risk."""
    share = metrics["policy_share"]
    names = [POLICY_WORDS[p] if p == "random" else f"top {share:.0%} {POLICY_WORDS[p]}"
             for p in POLICIES]  # fmt: skip
    value = [float(metrics.get(f"policy_{p}_uplift") or 0.0) * 100 for p in POLICIES]
    low = [float(metrics.get(f"policy_{p}_ci_low") or 0.0) * 100 for p in POLICIES]
    high = [float(metrics.get(f"policy_{p}_ci_high") or 0.0) * 100 for p in POLICIES]
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    v, lo, hi = np.array(value), np.array(low), np.array(high)
    err = np.vstack([v - lo, hi - v])
    ax.bar(names, value, yerr=err, capsize=6, color=["C0", "C1", "0.6"])
    ax.axhline(0, **REFERENCE_LINE)
    ax.set_ylabel("realised uplift (purchase-rate points)")
    headline(fig, _policy_title(metrics, share, value), _policy_subtitle(metrics))
    return fig


def _policy_title(metrics: dict, share: float, value: list[float]) -> str:
    title = f"Top {share:.0%} by uplift realised {value[0]:+.1f} purchase-rate points"
    diff = metrics.get("policy_uplift_minus_churn_risk")
    if diff is None or np.isnan(diff):
        return f"{title}; churn risk not compared"
    low, high = (100 * metrics[f"policy_uplift_minus_churn_risk_ci_{k}"] for k in ("low", "high"))
    verdict = "more than" if low > 0 else "less than" if high < 0 else "no clear gain over"
    return (
        f"{title}, {verdict} by churn risk ({value[1]:+.1f}; difference {100 * diff:+.1f}, "
        f"95% CI {low:+.1f} to {high:+.1f})"
    )


def _policy_subtitle(metrics: dict) -> str:
    by = str(metrics["policy_churn_risk_by"]).split(" (")[0]
    return f"held-out members of past exports, treated - control, 95% intervals; churn risk: {by}"


def qini(result: UpliftResult, outcome: str, score: str, label: str) -> Figure:
    """One Qini curve: incremental outcome per member vs share targeted, random as a line."""
    held = result.holdout
    x, q = qini_curve(held[outcome].astype(float), held["treated"].astype(bool), held[score])
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.plot(x, q, label="uplift model")
    ax.plot([0, 1], [0, q[-1]], label="random targeting", **REFERENCE_LINE)
    ax.set_xlabel("share of members targeted (by predicted uplift)")
    ax.set_ylabel(f"{label} per member")
    ax.set_title(f"Qini curve ({outcome}, held-out members)")
    ax.legend(loc="lower right")
    return fig
