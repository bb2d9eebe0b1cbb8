"""Demand forecast: series per level, fallback flags, non-negativity, as-of cut, determinism,
out-of-sample interval calibration."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ml.forecast import (
    BACKTEST_COLUMNS,
    FLAG_COLUMNS,
    FORECAST_COLUMNS,
    ForecastParams,
    SeriesForecast,
    backtest_cutoffs,
    build_series,
    calibrate_intervals,
    conformal_factor,
    conformity_scores,
    run_forecasting,
    score_forecast,
    seasonal_naive,
    series_level,
)
from ml.plots import forecast as forecast_plots
from ml.plots.style import headline_text

END = pd.Timestamp("2025-06-30")
DAYS = 420
WEEKLY = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.4, 1.3])


def make_daily_demand(days: int = DAYS, seed: int = 7) -> pd.DataFrame:
    """Zero-filled date x category x region grid with weekly + yearly pattern, Poisson noise.

    Category 'new' only sells in region 'north' and only in the last 30 days.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(END - pd.Timedelta(days=days - 1), END, freq="D")
    shape = WEEKLY[dates.dayofweek] * (1 + 0.3 * np.sin(2 * np.pi * dates.dayofyear / 365.25))
    frames = []
    for category, base in (("toys", 40.0), ("books", 25.0), ("new", 10.0)):
        for region, share in (("north", 0.6), ("south", 0.4)):
            lam = base * share * shape
            if category == "new":
                lam = np.where(dates > END - pd.Timedelta(days=30), lam, 0.0)
                lam = lam if region == "north" else np.zeros(len(dates))
            orders = rng.poisson(lam)
            frames.append(
                pd.DataFrame(
                    {
                        "demand_date": dates.date,
                        "category": category,
                        "store_region": region,
                        "orders": orders,
                        "units": orders * 2,
                        "revenue": orders * 19.5,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def orders_of(demand: pd.DataFrame) -> pd.DataFrame:
    """Distinct orders per day and region (marts.daily_orders) of this data: every order here
    has a single category, so they are the sums over categories."""
    return demand.groupby(["demand_date", "store_region"], as_index=False)["orders"].sum()


def forecast(demand: pd.DataFrame, params: ForecastParams, **kwargs):
    """run_forecasting with the distinct order counts the total and region series need."""
    return run_forecasting(demand, params, order_counts=orders_of(demand), **kwargs)


PARAMS = ForecastParams(
    horizon_days=14,
    backtest_cutoffs=1,
    backtest_horizon_days=14,
    uncertainty_samples=50,
    top_n_plots=1,
    n_jobs=1,
    seed=11,
)
EXPECTED_KEYS = {
    "total",
    "category=books",
    "category=new",
    "category=toys",
    "region=north",
    "region=south",
    *{f"category={c}|region={r}" for c in ("books", "new", "toys") for r in ("north", "south")},
}


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    return make_daily_demand()


@pytest.fixture(scope="module")
def result(demand: pd.DataFrame):
    return forecast(demand, PARAMS)


def test_every_series_of_every_level_gets_a_forecast(result) -> None:
    fc = result.forecasts
    assert list(fc.columns) == FORECAST_COLUMNS
    assert set(fc["series_key"]) == EXPECTED_KEYS
    assert fc.groupby("series_key").size().eq(PARAMS.horizon_days).all()
    assert fc[["yhat", "yhat_lower", "yhat_upper"]].notna().all().all()
    assert fc["ds"].min() == (END + pd.Timedelta(days=1)).date()
    assert fc["ds"].max() == (END + pd.Timedelta(days=PARAMS.horizon_days)).date()
    assert {series_level(k) for k in fc["series_key"]} == set(PARAMS.levels)
    assert set(result.flags["series_key"]) == EXPECTED_KEYS
    assert list(result.flags.columns) == FLAG_COLUMNS


def test_build_series_sums_levels_and_starts_at_first_demand(demand: pd.DataFrame) -> None:
    series = build_series(
        demand, ("total", "category", "category_region"), order_counts=orders_of(demand)
    )
    assert set(series) == {k for k in EXPECTED_KEYS if not k.startswith("region")}
    assert series["total"]["y"].sum() == demand["orders"].sum()
    assert series["category=toys"]["y"].sum() == demand.query("category == 'toys'")["orders"].sum()
    assert len(series["total"]) == DAYS
    assert series["category=new"]["ds"].iloc[0] > END - pd.Timedelta(days=30)
    assert series["category=new|region=south"].empty  # never sold: kept, not dropped


def test_short_history_uses_flagged_seasonal_naive_fallback(result, demand: pd.DataFrame) -> None:
    flags = result.flags.set_index("series_key")
    assert flags.loc["total", "method"] == "prophet"
    assert pd.isna(flags.loc["total", "reason"])
    short = flags.loc["category=new"]
    assert short["method"] == "seasonal_naive"
    assert "min_history_days" in short["reason"]
    assert short["history_days"] < PARAMS.min_history_days
    assert flags.loc["category=new|region=south", "method"] == "zero"
    assert "no non-zero history" in flags.loc["category=new|region=south", "reason"]

    fc = result.forecasts.set_index("series_key")
    last_week = build_series(demand, ("category",))["category=new"]["y"].to_numpy()[-7:]
    new = fc.loc["category=new"]
    np.testing.assert_allclose(new["yhat"].to_numpy(), np.resize(last_week, PARAMS.horizon_days))
    assert (new["method"] == "seasonal_naive").all()
    assert new["fallback_reason"].str.contains("min_history_days").all()
    assert (fc.loc["category=new|region=south", ["yhat", "yhat_upper"]] == 0).all().all()


def test_forecasts_are_never_negative_even_when_the_trend_falls_through_zero() -> None:
    days = pd.date_range("2024-01-01", periods=200, freq="D")
    level = np.linspace(60, 2, len(days)) * WEEKLY[days.dayofweek]
    rng = np.random.default_rng(3)
    demand = pd.DataFrame(
        {
            "demand_date": days,
            "category": "fading",
            "store_region": "north",
            "orders": rng.poisson(level),
            "units": 0,
            "revenue": rng.poisson(level) * 12.0,
        }
    )
    for transform in ("none", "log1p"):
        for metric in ("orders", "revenue"):
            params = ForecastParams(
                levels=("total",),
                metric=metric,
                horizon_days=120,
                transform=transform,
                backtest_cutoffs=0,
                uncertainty_samples=50,
                top_n_plots=0,
                n_jobs=1,
            )
            fc = forecast(demand, params).forecasts
            assert (fc["method"] == "prophet").all()
            assert (fc[["yhat", "yhat_lower", "yhat_upper"]] >= 0).all().all()
            assert (fc["yhat_lower"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_upper"]).all()
            if transform == "none":  # the linear trend crosses zero: clipping must have acted
                assert (fc["yhat"] == 0).any()


def test_no_data_after_as_of_is_used(demand: pd.DataFrame) -> None:
    as_of = END - pd.Timedelta(days=20)
    params = ForecastParams(
        levels=("total", "region"),
        horizon_days=10,
        backtest_cutoffs=1,
        backtest_horizon_days=10,
        uncertainty_samples=50,
        top_n_plots=0,
        n_jobs=1,
    )
    poisoned = demand.copy()
    after = pd.to_datetime(poisoned["demand_date"]) > as_of
    poisoned.loc[after, "orders"] *= 100
    truncated = demand[~after]

    got = forecast(poisoned, params, as_of=as_of.date())
    want = forecast(truncated, params)
    pd.testing.assert_frame_equal(got.forecasts, want.forecasts)
    pd.testing.assert_frame_equal(got.backtests, want.backtests)
    assert got.forecasts["ds"].min() == (as_of + pd.Timedelta(days=1)).date()
    assert (got.flags["last_date"] == as_of.date()).all()
    assert got.run.data_window["end"] == as_of.date().isoformat()


def test_same_seed_gives_identical_output_sequential_or_parallel(result, demand) -> None:
    again = forecast(demand, PARAMS)
    pd.testing.assert_frame_equal(result.forecasts, again.forecasts)
    pd.testing.assert_frame_equal(result.backtests, again.backtests)

    parallel = forecast(demand, ForecastParams(**{**PARAMS.__dict__, "n_jobs": 2}))
    assert parallel.run.metrics["workers"] == 2
    pd.testing.assert_frame_equal(result.forecasts, parallel.forecasts)
    pd.testing.assert_frame_equal(result.backtests, parallel.backtests)

    reseeded = forecast(demand, ForecastParams(**{**PARAMS.__dict__, "seed": 12}))
    prophet_rows = result.forecasts["method"] == "prophet"
    assert not np.allclose(
        result.forecasts.loc[prophet_rows, "yhat_upper"],
        reseeded.forecasts.loc[prophet_rows, "yhat_upper"],
    )


def test_backtest_scores_prophet_and_seasonal_naive_at_each_cutoff(result) -> None:
    bt = result.backtests
    assert list(bt.columns) == BACKTEST_COLUMNS
    cutoff = (END - pd.Timedelta(days=14)).date()
    total = bt[bt["series_key"] == "total"].set_index("model")
    assert set(total.index) == {"prophet", "seasonal_naive"}
    assert (total["cutoff"] == cutoff).all()
    assert (total["n_obs"] == 14).all()
    assert total[["mae", "mase", "smape", "coverage"]].notna().all().all()
    assert 0 <= total.loc["prophet", "coverage"] <= 1
    # the 30-day category is too short at the cutoff for Prophet: baseline only
    assert set(bt.loc[bt["series_key"] == "category=new", "model"]) <= {"seasonal_naive"}

    run = result.run
    assert run.model == "demand_forecast"
    assert run.model_version == result.forecasts["model_version"].iloc[0]
    assert run.metrics["total"]["mase"] == pytest.approx(total.loc["prophet", "mase"])
    base = run.baseline_metrics["seasonal_naive"]["total"]["mase"]
    assert base == pytest.approx(total.loc["seasonal_naive", "mase"])
    assert run.metrics["n_series"] == len(EXPECTED_KEYS)
    assert run.metrics["n_fallback"] == 3
    assert run.data_window["backtest_cutoffs"] == [cutoff.isoformat()]


def test_figures_render_to_png(result) -> None:
    figures = forecast_plots.figures(result)
    assert set(figures) == {"forecast_total", "backtest_summary"}
    total = result.forecasts[result.forecasts["series_key"] == "total"]
    title, subtitle = headline_text(figures["forecast_total"])
    assert title.startswith(f"Forecast: {total['yhat'].sum():,.0f} orders expected in the next 14")
    assert f"to {result.run.data_window['end']} (" in subtitle
    labels = [ln.get_label() for ln in figures["backtest_summary"].axes[0].get_lines()]
    assert "seasonal naive (baseline)" in labels
    for fig in figures.values():
        assert isinstance(fig, Figure)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_reports_every_fit(demand: pd.DataFrame) -> None:
    calls: list[tuple[int, int]] = []
    params = ForecastParams(
        levels=("total", "region"),
        horizon_days=7,
        backtest_cutoffs=1,
        backtest_horizon_days=7,
        uncertainty_samples=20,
        top_n_plots=0,
        n_jobs=1,
    )
    forecast(demand, params, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (6, 6)  # 3 series x (forecast + 1 backtest cutoff)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_seasonal_naive_repeats_last_week_with_widening_intervals() -> None:
    days = pd.date_range("2025-01-06", periods=21, freq="D")  # starts on a Monday
    y = np.tile(np.arange(7.0), 3) + np.repeat([0.0, 1.0, 2.0], 7)
    fc = seasonal_naive(pd.DataFrame({"ds": days, "y": y}), horizon_days=14)
    np.testing.assert_allclose(fc["yhat"], np.tile(np.arange(7.0) + 2.0, 2))
    assert fc["ds"].iloc[0] == days[-1] + pd.Timedelta(days=1)
    assert (fc["yhat_upper"].iloc[7:].to_numpy() >= fc["yhat_upper"].iloc[:7].to_numpy()).all()


def test_score_forecast_matches_hand_computed_values() -> None:
    train = np.array([1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9], dtype=float)  # scale = 2
    actual = np.array([10.0, 0.0, 4.0])
    yhat = np.array([8.0, 0.0, 6.0])
    scores = score_forecast(actual, yhat, yhat - 1, yhat + 1, train)
    assert scores["mae"] == pytest.approx(4 / 3)
    assert scores["mase"] == pytest.approx(2 / 3)
    assert scores["smape"] == pytest.approx(100 * (4 / 18 + 0 + 4 / 10) / 3)
    assert scores["coverage"] == pytest.approx(1 / 3)


def test_backtest_cutoffs_span_the_last_year() -> None:
    cutoffs = backtest_cutoffs(END, ForecastParams())
    assert cutoffs == [END - pd.Timedelta(days=d) for d in (90, 181, 272, 363)]


@pytest.mark.parametrize(
    "bad",
    [
        {"levels": ("total", "country")},
        {"metric": "margin"},
        {"interval_width": 1.2},
        {"min_history_days": 7},
        {"country_holidays": "XX"},
        {"n_jobs": 0},
    ],
)
def test_invalid_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        ForecastParams(**bad)


def test_conformal_factor_is_the_finite_sample_quantile() -> None:
    scores = np.arange(1.0, 11.0)  # n = 10: ceil(11 * 0.8) = 9th smallest
    assert conformal_factor(scores, 0.8) == 9.0
    assert conformal_factor(scores[:3], 0.8) is None  # 80% needs >= 4 scores
    fc = pd.DataFrame(
        {
            "ds": pd.date_range("2025-01-01", periods=4),
            "yhat": 10.0,
            "yhat_lower": [8.0, 8.0, 6.0, 8.0],
            "yhat_upper": [11.0, 14.0, 12.0, 12.0],
        }
    )
    actual = pd.DataFrame({"ds": fc["ds"], "y": [13.0, 12.0, 8.0, 10.0]})
    np.testing.assert_allclose(conformity_scores(fc, actual), [3.0, 0.5, 0.5, 0.0])


def _flat_forecast(start: pd.Timestamp, days: int, half_width: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ds": pd.date_range(start + pd.Timedelta(days=1), periods=days),
            "yhat": 100.0,
            "yhat_lower": 100.0 - half_width,
            "yhat_upper": 100.0 + half_width,
        }
    )


@pytest.mark.parametrize("sigma", [5.0, 10.0])
def test_calibration_repairs_an_overconfident_interval_out_of_sample(sigma: float) -> None:
    # y ~ N(100, sigma); the model claims 80% intervals half as wide as the truth needs.
    horizon, future = 60, 4000
    params = ForecastParams(
        levels=("total",),
        horizon_days=future,
        backtest_cutoffs=4,
        backtest_horizon_days=horizon,
        backtest_window_days=4 * horizon,
        country_holidays=None,
        transform="none",
    )
    rng = np.random.default_rng(int(sigma))
    end = pd.Timestamp("2025-12-31")
    days = pd.date_range(end - pd.Timedelta(days=399), end)
    series = {"total": pd.DataFrame({"ds": days, "y": rng.normal(100, sigma, len(days))})}
    z80 = 1.2816
    narrow = 0.5 * z80 * sigma
    cutoffs = backtest_cutoffs(end, params)
    fitted = {
        ("total", c): SeriesForecast("total", "prophet", None, _flat_forecast(c, horizon, narrow))
        for c in cutoffs
    }
    fitted["total", None] = SeriesForecast(
        "total", "prophet", None, _flat_forecast(end, future, narrow)
    )

    calibrated = calibrate_intervals(series, fitted, cutoffs, end, params)
    prod = calibrated["total", None]
    assert prod.calibration_n == 4 * horizon  # every backtest window ends by `end`
    assert prod.interval_scale == pytest.approx(2.0, rel=0.2)
    fresh = rng.normal(100, sigma, future)  # data the calibration never saw
    fc = prod.forecast
    inside = (fresh >= fc["yhat_lower"]) & (fresh <= fc["yhat_upper"])
    assert inside.mean() == pytest.approx(0.8, abs=0.04)
    assert (fc["yhat_upper"] - fc["yhat"]).mean() == pytest.approx(z80 * sigma, rel=0.2)
    # only earlier, complete windows calibrate a backtest origin: the earliest has none
    assert calibrated["total", cutoffs[-1]].interval_scale is None
    assert calibrated["total", cutoffs[0]].calibration_n == 3 * horizon


def test_prophet_intervals_are_calibrated_and_follow_the_noise() -> None:
    """End to end: 80% intervals cover ~80% of fresh data; twice the noise, ~twice the width."""
    days, future = 300, 120
    widths = {}
    for sigma in (20.0, 40.0):
        rng = np.random.default_rng(5)
        dates = pd.date_range("2024-01-01", periods=days + future, freq="D")
        y = np.round(500 * WEEKLY[dates.dayofweek] + rng.normal(0, sigma, len(dates)))
        demand = pd.DataFrame(
            {
                "demand_date": dates,
                "category": "c",
                "store_region": "r",
                "orders": np.maximum(y, 0),
                "units": 0,
                "revenue": 0.0,
            }
        )
        params = ForecastParams(
            levels=("total",),
            horizon_days=future,
            backtest_cutoffs=4,
            backtest_horizon_days=28,
            backtest_window_days=120,
            transform="none",
            country_holidays=None,
            retail_events=False,
            uncertainty_samples=100,
            top_n_plots=0,
            n_jobs=1,
        )
        result = forecast(demand.iloc[:days], params)
        fc = result.forecasts
        truth = demand["orders"].iloc[days:].to_numpy()
        coverage = ((truth >= fc["yhat_lower"]) & (truth <= fc["yhat_upper"])).mean()
        assert 0.7 <= coverage <= 0.9, coverage
        calibration = result.run.metrics["interval_calibration"]
        assert calibration["n_calibrated"] == 1
        assert calibration["backtest_cutoffs_calibrated"] == 3
        assert 0.5 < calibration["total_factor"] < 2.0
        widths[sigma] = float((fc["yhat_upper"] - fc["yhat_lower"]).mean())
    assert 1.6 < widths[40.0] / widths[20.0] < 2.5
