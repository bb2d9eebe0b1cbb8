"""Figures of an uplift run: the Qini curve of the model against random targeting."""

from __future__ import annotations

from matplotlib.figure import Figure

from ml.plots.style import REFERENCE_LINE
from ml.uplift.qini import qini_curve
from ml.uplift.run import UpliftResult


def figures(result: UpliftResult) -> dict[str, Figure]:
    """Qini curves of the held-out members, purchase and revenue."""
    return {
        "qini_purchase": qini(result, "purchased", "uplift_purchase", "incremental purchasers"),
        "qini_revenue": qini(result, "revenue", "uplift_revenue", "incremental revenue"),
    }


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
