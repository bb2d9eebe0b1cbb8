"""Plots for marketers: titles state the takeaway computed from the data, axes and features
are in words, the subtitle names the data window, the naive baseline is a line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ml import features
from ml.forecast import SeriesForecast
from ml.plots import churn, forecast, segmentation
from ml.plots.style import headline_text
from ml.plots.words import FEATURE_WORDS, feature_words


def churn_holdout() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """100 held-out customers, 30 churners: the model's top tenth holds 9, recency's 5, RFM's 0."""
    y = np.zeros(100, dtype=int)
    y[0:9] = 1
    y[50:55] = 1
    y[80:96] = 1
    idx = np.arange(100)
    model = 1 - idx / 100
    recency = np.where((idx >= 50) & (idx < 60), 1.0, 0.5 - idx / 1000)
    rfm = np.where((idx >= 60) & (idx < 70), 1.0, 0.5 - idx / 1000)
    return y, {"model": model, "recency": recency, "rfm_logistic": rfm}


def test_churn_lift_title_counts_churners_found_against_the_best_baseline() -> None:
    y, scores = churn_holdout()
    subtitle = churn.data_window("2025-03-01", 90, y)
    fig = churn.lift(y, scores, subtitle)
    title, sub = headline_text(fig)
    assert title == (
        "Churn model finds 1.8x more churners than the best baseline in the top decile "
        "(9 vs 5 for the recency baseline)"
    )
    assert sub.startswith("Held out: 100 customers as of 2025-03-01; 30% churned")
    assert "90 days" in sub
    ax = fig.axes[0]
    assert "risk" in ax.get_xlabel() and "lift" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()][1:] == [
        "churn model",
        "recency baseline",
        "RFM baseline",
    ]
    # The other way round the title says so.
    swapped = {"model": scores["recency"], "recency": scores["model"]}
    assert headline_text(churn.lift(y, swapped))[0].startswith(
        "Churn model finds fewer churners than the best baseline in the top decile (5 vs 9"
    )


def test_churn_roc_and_calibration_titles_state_the_comparison() -> None:
    y, scores = churn_holdout()
    aucs = {name: roc_auc_score(y, s) for name, s in scores.items()}
    assert aucs["recency"] > max(aucs["model"], aucs["rfm_logistic"])
    assert headline_text(churn.roc_with_baselines(y, scores))[0] == (
        "Churn model ranks churners no better than the best baseline: "
        f"AUC {aucs['model']:.2f} vs {aucs['recency']:.2f} (recency baseline)"
    )
    perfect = {**scores, "model": y.astype(float)}
    assert headline_text(churn.roc_with_baselines(y, perfect))[0] == (
        "Churn model ranks churners better than the best baseline: "
        f"AUC 1.00 vs {aucs['recency']:.2f} (recency baseline)"
    )
    # Every tenth of customers predicted 20% and observed 30%: 10 points off.
    flat = np.tile([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], 10)
    cal = churn.calibration(flat, {"model": np.full(100, 0.2)})
    assert headline_text(cal)[0] == (
        "Predicted churn risk is within 10 percentage points of the observed churn rate on average"
    )
    assert cal.axes[0].get_ylabel() == "share of them who churned"


def series_forecast(days: int, level: float, method: str = "prophet", reason=None):
    start = pd.Timestamp("2025-03-02")
    fc = pd.DataFrame({"ds": pd.date_range(start, periods=days), "yhat": level})
    fc["yhat_lower"], fc["yhat_upper"] = level - 2, level + 2
    return SeriesForecast("total", method, reason, fc)


def test_forecast_title_states_the_expected_demand_against_the_days_before() -> None:
    history = pd.DataFrame({"ds": pd.date_range("2025-01-01", "2025-03-01"), "y": 10.0})
    fig = forecast.plot_series(
        "total", history, series_forecast(28, 10.6), "orders", interval_width=0.8
    )
    title, sub = headline_text(fig)
    # 28 x 10.6 = 296.8 expected against 28 x 10 = 280: +6%.
    assert title == "Forecast: 297 orders expected in the next 28 days, +6% on the last 28"
    assert sub == (
        "Daily orders from 2025-01-01 to 2025-03-01 (60 days); forecast to 2025-03-29 by "
        "Prophet; band: 80% interval"
    )
    assert fig.axes[0].get_ylabel() == "orders per day"

    fallback = series_forecast(7, 5.0, "seasonal_naive", "history shorter than 28 days")
    fig = forecast.plot_series("category=toys|region=north", history.tail(3), fallback, "revenue")
    title, sub = headline_text(fig)
    assert (
        title
        == "Forecast for category toys, region north: revenue of 35 expected in the next 7 days"
    )
    assert "(fallback: history shorter than 28 days)" in sub


def backtests() -> pd.DataFrame:
    """Each series' own method (Prophet, or its share of the parent) and seasonal naive at
    two origins; a third category only has the baseline (it must not weigh on the line)."""
    rows = []
    for cutoff in ("2025-01-01", "2025-02-01"):
        for key, level, method, own, naive in (
            ("total", "total", "prophet", 0.8, 1.0),
            ("category=a", "category", "prophet", 0.9, 1.2),
            ("category=b", "category", "share", 0.9, 1.2),
            ("category=c", "category", "share", None, 5.0),
        ):
            for model, mase in ((method, own), ("seasonal_naive", naive)):
                if mase is not None:
                    rows.append(
                        {"series_key": key, "level": level, "model": model, "mase": mase}
                        | {"cutoff": pd.Timestamp(cutoff), "horizon_days": 28, "coverage": 0.75}
                    )
    return pd.DataFrame(rows)


def test_backtest_summary_draws_the_naive_baseline_as_a_line_over_the_bars() -> None:
    fig = forecast.plot_backtest_summary(backtests(), interval_width=0.8)
    title, sub = headline_text(fig)
    # Same 6 (series, origin) pairs: own methods (2 x 0.8 + 4 x 0.9) / 6, naive (2 + 4 x 1.2) / 6.
    assert title == (
        "Forecasts beat the seasonal-naive baseline: mean error (MASE) 0.87 vs 1.13, "
        "lower on 100% of 6 backtests"
    )
    assert sub.startswith("3 series, 2 forecast origins from 2025-01-01 to 2025-02-01")
    ax_mase, ax_cov = fig.axes
    assert [t.get_text() for t in ax_mase.get_xticklabels()] == ["all demand", "by category"]
    (line,) = [ln for ln in ax_mase.get_lines() if ln.get_label() == "seasonal naive (baseline)"]
    assert list(line.get_ydata()) == pytest.approx([1.0, 1.2])
    bars = {c.get_label(): [p.get_height() for p in c] for c in ax_mase.containers}
    assert bars["Prophet"] == pytest.approx([0.8, 0.9])
    assert bars["share of the parent series"][1] == pytest.approx(0.9)
    target = [ln for ln in ax_cov.get_lines() if ln.get_label() == "target 80%"]
    assert target and list(target[0].get_ydata()) == [0.8, 0.8]
    assert "lower is better" in ax_mase.get_ylabel()


def test_every_profiled_feature_has_words_and_unknown_ones_read_from_their_name() -> None:
    profiled = {*features.PROFILE_NUMERIC, *features.ZERO_WHEN_MISSING}
    assert profiled - set(FEATURE_WORDS) == set()
    assert feature_words("cat_share_books") == "share of spend: books"
    assert feature_words("cat_share_home_garden") == "share of spend: home garden"
    assert feature_words("wishlist_adds_30d") == "wishlist adds, last 30 days"
    assert feature_words("wishlist_adds_prev_30d") == "wishlist adds, 30 days before"
    assert feature_words("days_to_first_review_days") == "days to first review (days)"


def test_segment_heat_map_labels_features_in_words_and_names_the_strongest_trait() -> None:
    z = pd.DataFrame(
        {
            "recency_days": [-0.5, 3.0, np.nan],
            "cat_share_books": [1.2, -0.1, -0.5],
            "loyalty_points": [0, 0, -4.0],
        },
        index=["1: Loyal customers", "2: Lapsed customers", "0: Prospects"],
    )
    window = segmentation.data_window("2025-06-30", 1000, {})
    # That prospects have no points is no news: the title looks at the other segments.
    fig = segmentation.segment_heatmap(z, window, not_in_title=["0: Prospects"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "days since last order",
        "share of spend: books",
        "loyalty points",
    ]
    assert headline_text(fig) == (
        "Strongest trait: Lapsed customers, days since last order 3.0 standard deviations "
        "above the average customer",
        "1,000 customers as of 2025-06-30",
    )
    assert "+3.0" in [t.get_text() for t in ax.texts]


def test_segment_sizes_and_projection_titles_state_the_takeaway() -> None:
    profiles = pd.DataFrame(
        {
            "segment_id": [0, 1, -1],
            "name": ["Loyal customers", "Lapsed customers", "Prospects"],
            "size": [250, 600, 150],
            "share": [0.25, 0.6, 0.15],
        }
    )
    window = segmentation.data_window("2025-06-30", 1000, {"n_clustered": 850, "k": 2})
    title, sub = headline_text(segmentation.segment_sizes(profiles, window))
    assert title == "Largest segment: Lapsed customers, 60% of customers (600 of 1,000)"
    assert sub == (
        "1,000 customers as of 2025-06-30; 850 with a purchase clustered into 2 segments, "
        "the others are prospects"
    )
    everyone = segmentation.data_window(None, 1000, {"n_clustered": 1000, "k": 4})
    assert everyone == "1,000 customers, clustered into 4 segments"
    points = np.random.default_rng(0).normal(size=(40, 2))
    labels = np.repeat([0, 1], 20)
    fig = segmentation.projection(points, labels, {0: "a", 1: "b"}, window, (0.41, 0.22))
    title, sub = headline_text(fig)
    assert title == (
        "2 segments, better separated than a recency x spend grid: silhouette 0.41 vs 0.22"
    )
    assert sub.endswith("; a sample of 40 clustered customers")
    assert "principal component" in fig.axes[0].get_xlabel()
