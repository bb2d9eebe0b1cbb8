"""Customer-value figures: calibration by decile on the time split, model vs run-rate."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ml.plots.style import REFERENCE_LINE
from ml.value.run import ValueResult


def figures(result: ValueResult) -> dict[str, Figure]:
    """The run's figures by file name (none without an evaluation window)."""
    if result.calibration.empty:
        return {}
    return {"value_calibration": calibration_by_decile(result.calibration)}


def calibration_by_decile(table: pd.DataFrame) -> Figure:
    """Mean predicted vs real 90-day revenue per prediction decile, for each predictor."""
    fig = Figure(figsize=(11, 5))
    left, right = fig.subplots(1, 2)
    top = max(float(table["mean_predicted"].max()), float(table["mean_actual"].max()), 1.0)
    for name, rows in table.groupby("model", sort=False):
        left.plot(rows["mean_predicted"], rows["mean_actual"], marker="o", label=name)
        right.plot(rows["decile"], rows["mean_actual"], marker="o", label=f"{name}: real")
        right.plot(
            rows["decile"], rows["mean_predicted"], ls=":", marker=".", label=f"{name}: predicted"
        )
    left.plot([0, top], [0, top], **REFERENCE_LINE)
    left.set_xlabel("mean predicted revenue, next 90 days")
    left.set_ylabel("mean real revenue, next 90 days")
    left.set_title("Calibration by decile (time split)")
    left.legend(loc="upper left", fontsize=8)
    right.set_xlabel("prediction decile (1 = highest)")
    right.set_ylabel("mean revenue per customer")
    right.set_title("Predicted vs real by decile")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
