"""Customer value: the inputs mart's conventions, the fitted models' behaviour, erasure.

A small simulated shop (customers buy at their own rate until they drop out) goes through
the real SQL of marts.customer_value_inputs (compiled by dbt, run in DuckDB over a
marts.fct_orders of the simulated orders), then through the real PyMC-Marketing fits. The
PyTensor compile cache is the user cache folder (as in production), so only the first run on
a machine compiles.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.value.compile_cache import default_compile_cache, use_compile_cache

use_compile_cache(default_compile_cache())

from ml.value import SCORE_COLUMNS, ValueParams  # noqa: E402
from ml.value.run import run_customer_value  # noqa: E402
from tests.dbt.helpers import compiled_model_sql, make_warehouse  # noqa: E402

AS_OF = pd.Timestamp("2024-12-31")
RUN_AT = datetime(2024, 12, 31, 4, 0, tzinfo=UTC)
PARAMS = ValueParams(draws=60, seed=3)


def simulate(n: int = 300, days: int = 720, seed: int = 0) -> pd.DataFrame:
    """Completed orders of a BG/NBD-like shop, plus two planted customers and a same-day pair."""
    rng = np.random.default_rng(seed)
    start = AS_OF - pd.Timedelta(days=days)
    rows = []
    for i in range(n):
        day = float(rng.integers(0, days))
        rate = float(rng.gamma(0.9, 1 / 30))
        drop = float(rng.beta(1.0, 6.0))
        mean_spend = float(rng.gamma(4.0, 15.0))
        while day <= days:
            rows.append((f"c{i:04d}", day, round(float(rng.gamma(8.0, mean_spend / 8.0)), 2)))
            if rng.random() < drop:
                break
            day += float(rng.exponential(1 / rate))
    rows.append(("lapsed", 100.0, 40.0))  # one purchase, 620 days before the as-of date
    rows += [("loyal", float(d), 80.0) for d in range(100, days - 2, 14)]  # every two weeks
    rows += [("sameday", 700.0, 10.0), ("sameday", 700.2, 15.0), ("sameday", 710.0, 30.0)]
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    frame["ordered_at"] = start + pd.to_timedelta(frame["day"], unit="D")
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame[frame["ordered_at"] < AS_OF + pd.Timedelta(days=1)]


def inputs_mart(orders: pd.DataFrame, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Run the customer_value_inputs model's SQL over marts-shaped tables of `orders`."""
    with duckdb.connect() as con:
        con.execute("create schema marts; create schema intermediate")
        con.register("o", orders)
        con.execute(
            "create table marts.fct_orders as select order_id, customer_id, ordered_at,"
            " cast(ordered_at as date) as order_date, true as is_completed,"
            " cast(amount as decimal(18, 2)) as total_amount_base from o"
        )
        con.execute(
            f"create table intermediate.int_as_of as select date '{as_of.date()}' as as_of_date"
        )
        sql = compiled_model_sql("customer_value_inputs", json.dumps({"value_evaluation_days": 90}))
        return con.execute(sql + " order by cutoff_date, customer_id").df()


@pytest.fixture(scope="module")
def inputs() -> pd.DataFrame:
    return inputs_mart(simulate())


@pytest.fixture(scope="module")
def result(inputs):
    return run_customer_value(inputs, PARAMS, run_at=RUN_AT)


def _row(frame: pd.DataFrame, customer_id: str, kind: str = "as_of") -> pd.Series:
    rows = frame[(frame["customer_id"] == customer_id) & (frame["cutoff_kind"] == kind)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_inputs_count_repeat_purchase_days_not_orders(inputs) -> None:
    same = _row(inputs, "sameday")
    # two orders on day 700 are one period: the only repeat is day 710
    assert (same["frequency"], same["recency"], same["tenure_days"]) == (1, 10, 20)
    assert float(same["monetary_value"]) == 30.0  # the repeat day; the first day is left out
    assert float(same["revenue_to_date"]) == 55.0
    lapsed = _row(inputs, "lapsed")
    assert (lapsed["frequency"], lapsed["recency"], lapsed["tenure_days"]) == (0, 0, 620)
    assert float(lapsed["monetary_value"]) == 0.0


def test_evaluation_cutoff_sees_only_its_past_and_carries_the_next_window(inputs) -> None:
    loyal_now, loyal_then = _row(inputs, "loyal"), _row(inputs, "loyal", "evaluation")
    assert pd.Timestamp(loyal_then["cutoff_date"]) == pd.Timestamp("2024-10-02")
    assert loyal_then["tenure_days"] == loyal_now["tenure_days"] - 90
    # orders every 14 days: 6 or 7 purchase days in the 90 days after the cutoff
    assert loyal_then["purchase_days_after"] in (6, 7)
    assert float(loyal_then["revenue_after"]) == 80.0 * loyal_then["purchase_days_after"]
    assert loyal_now["purchase_days_after"] is None or pd.isna(loyal_now["purchase_days_after"])
    assert "sameday" in set(inputs.loc[inputs["cutoff_kind"] == "as_of", "customer_id"])
    assert "sameday" not in set(inputs.loc[inputs["cutoff_kind"] == "evaluation", "customer_id"])


def test_one_purchase_long_ago_is_low_and_a_frequent_recent_buyer_is_high(result) -> None:
    scores = result.scores.set_index("customer_id")
    lapsed, loyal = scores.loc["lapsed"], scores.loc["loyal"]
    revenue = scores["predicted_revenue_90d"]
    assert lapsed["p_alive"] < 0.3
    assert loyal["p_alive"] > 0.9
    assert lapsed["predicted_revenue_90d"] < revenue.quantile(0.25)
    assert loyal["predicted_revenue_90d"] > revenue.quantile(0.95)
    assert loyal["predicted_revenue_365d"] > loyal["predicted_revenue_90d"]
    assert 5 < loyal["expected_purchases_90d"] < 8  # a purchase day every 14 days


def test_intervals_contain_the_point_estimate_and_one_row_per_customer(result, inputs) -> None:
    scores = result.scores
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert scores["customer_id"].is_unique
    assert len(scores) == (inputs["cutoff_kind"] == "as_of").sum()
    point = scores["predicted_revenue_90d"]
    assert (scores["predicted_revenue_90d_lower"] <= point).all()
    assert (point <= scores["predicted_revenue_90d_upper"]).all()
    loyal = scores.set_index("customer_id").loc["loyal"]
    assert loyal["predicted_revenue_90d_lower"] < loyal["predicted_revenue_90d_upper"]


def test_run_reports_the_time_split_against_run_rate(result) -> None:
    metrics, baseline = result.run.metrics, result.run.baseline_metrics["run_rate"]
    assert metrics["evaluated"] and metrics["window_days"] == 90
    for name in ("mae", "spearman", "top_decile_capture"):
        assert metrics[name] is not None and baseline[name] is not None
    assert set(result.calibration["model"]) == {"model", "run_rate"}
    assert result.run.to_row()["model_version"].startswith("customer_value-")
    from ml.plots import value as value_plots

    figure = value_plots.figures(result)["value_calibration"]
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 3  # model, run-rate, diagonal


def test_without_repeat_buyers_nothing_is_scored_and_the_run_says_why(inputs) -> None:
    one_timers = inputs[inputs["frequency"] == 0]
    result = run_customer_value(one_timers, PARAMS, run_at=RUN_AT)
    assert result.scores.empty and list(result.scores.columns) == list(SCORE_COLUMNS)
    assert "repeat buyers" in result.run.metrics["not_scored"]
    assert result.run.metrics["evaluated"] is False and result.calibration.empty


def test_erasure_removes_the_person_from_the_value_tables(tmp_path: Path, result, inputs) -> None:
    from orchestration.lib.io import write_tables
    from segmint.erasure import forget
    from segmint.settings import Settings

    db = make_warehouse(tmp_path / "segmint.duckdb", {"orders": []})
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_value_inputs as select * from inputs")
    write_tables(str(db), {"ml.customer_value": result.scores})
    settings = Settings(warehouse=db, published=tmp_path / "published.duckdb")
    forget(settings, customer_id="loyal", live_runs=lambda: [])
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("ml.customer_value", "marts.customer_value_inputs"):
            left = con.execute(f"select customer_id from {table}").df()["customer_id"]
            assert "loyal" not in set(left) and "lapsed" in set(left), table


def test_the_fit_sees_customers_in_one_order_whatever_the_mart_scan_order(inputs) -> None:
    # the likelihood's floating-point sums follow row order: a different scan order of the
    # mart must give the same rows in the same order, or runs are not bit-reproducible
    from ml.value.run import _split

    shuffled = inputs.sample(frac=1, random_state=7)
    for mine, theirs in zip(_split(inputs), _split(shuffled), strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
        assert mine["customer_id"].is_monotonic_increasing
