"""Churn: point-in-time labels and features, no leakage, adapts to orders-only data, stable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml import evaluation, features
from ml.churn import ChurnParams, risk_band, train_and_score_churn
from ml.churn.drivers import driver_groups, explain, reference
from ml.churn.examples import build_examples, calibration_rows, stratified_subsample
from ml.features import LeakageError, check_point_in_time
from ml.plots import churn as churn_plots
from ml.plots.style import headline_text
from tests.dbt.helpers import compiled_model_sql

AS_OF = pd.Timestamp("2024-12-31")
HORIZON = 90
RUN_AT = datetime(2024, 12, 31, 4, 0, tzinfo=UTC)
PARAMS = ChurnParams(horizon_days=HORIZON, seed=3, max_iter=150, driver_sample=300)
STATIC = ("gender", "country", "age_band")


# --- a small simulated shop: customers buy at their own rate until they churn ------------


def simulate(n: int = 400, prospects: int = 40, days: int = 720, seed: int = 0):
    """(customers, orders, visits) with a planted churn signal: activity fades, then stops."""
    rng = np.random.default_rng(seed)
    start = AS_OF - pd.Timedelta(days=days)
    customers, orders, visits = [], [], []
    for i in range(n + prospects):
        cid = f"c{i:05d}"
        signup = int(rng.integers(0, days - 30))
        rate = 0.0 if i >= n else float(np.exp(rng.normal(np.log(1 / 25), 0.5)))
        stop = int(rng.integers(signup, days + 250)) if rng.random() < 0.6 else days + 10_000
        customers.append(
            {
                "customer_id": cid,
                "signup_at": start + pd.Timedelta(days=signup),
                "gender": rng.choice(["f", "m", "x"], p=[0.48, 0.48, 0.04]),
                "country": rng.choice(["DE", "FR", "NL"]),
                "age_band": rng.choice(["18-24", "25-34", "35-54", "55+"]),
            }
        )
        t = np.arange(signup, days + 1)
        lam = np.where(t < stop - 60, rate, np.where(t < stop, rate / 3, 0.0))
        aov = float(np.exp(rng.normal(4, 0.4)))
        for d in t[rng.random(t.size) < lam]:
            status = rng.choice(["completed", "cancelled", "returned"], p=[0.9, 0.05, 0.05])
            amount = round(aov * float(np.exp(rng.normal(0, 0.3))), 2)
            orders.append((f"o{len(orders)}", cid, int(d), status, amount))
        visit_rate = np.where(t < stop - 30, 4 * rate, 0.3 * rate) + 0.002
        visits += [(cid, int(d)) for d in t[rng.random(t.size) < visit_rate]]
    o = pd.DataFrame(orders, columns=["order_id", "customer_id", "day", "status", "total_amount"])
    o["order_date"] = start + pd.to_timedelta(o.pop("day"), unit="D")
    o["ordered_at"] = o["order_date"] + pd.Timedelta(hours=12)
    o["is_completed"] = o["status"] == "completed"
    v = pd.DataFrame(visits, columns=["customer_id", "day"])
    v["visit_date"] = start + pd.to_timedelta(v.pop("day"), unit="D")
    return pd.DataFrame(customers), o, v


def features_as_of(customers, orders, visits, cutoff, orders_only=False) -> pd.DataFrame:
    """customer_360-like features from rows dated on or before `cutoff` only."""
    c = customers[customers["signup_at"] <= cutoff]
    o = orders[orders["order_date"] <= cutoff]
    done = o[o["is_completed"]]
    age = (cutoff - done["order_date"]).dt.days
    g = done.groupby("customer_id")
    f = pd.DataFrame(
        {
            "frequency": g.size(),
            "monetary": g["total_amount"].sum(),
            "first_order_at": g["ordered_at"].min(),
            "last_order_at": g["ordered_at"].max(),
            "orders_30d": done[age < 30].groupby("customer_id").size(),
            "orders_90d": done[age < 90].groupby("customer_id").size(),
            "orders_prev_90d": done[(age >= 90) & (age < 180)].groupby("customer_id").size(),
            "revenue_90d": done[age < 90].groupby("customer_id")["total_amount"].sum(),
            "cancel_rate": o.groupby("customer_id")["status"].agg(
                lambda s: (s == "cancelled").mean()
            ),
        }
    )
    f["avg_order_value"] = f["monetary"] / f["frequency"]
    span = (f["last_order_at"] - f["first_order_at"]).dt.days
    f["mean_interpurchase_days"] = (span / (f["frequency"] - 1)).where(f["frequency"] > 1)
    out = c.merge(f, left_on="customer_id", right_index=True, how="left")
    out["recency_days"] = (cutoff - out["last_order_at"].dt.normalize()).dt.days
    out["tenure_days"] = (cutoff - out["signup_at"]).dt.days
    vv = visits[visits["visit_date"] <= cutoff]
    vage = (cutoff - vv["visit_date"]).dt.days
    engagement = pd.DataFrame(
        {
            "sessions_30d": vv[vage < 30].groupby("customer_id").size(),
            "sessions_prev_30d": vv[(vage >= 30) & (vage < 60)].groupby("customer_id").size(),
            "days_since_last_visit": (
                cutoff - vv.groupby("customer_id")["visit_date"].max()
            ).dt.days,
        }
    )
    out = out.merge(engagement, left_on="customer_id", right_index=True, how="left")
    counts = ["frequency", "monetary", "orders_30d", "orders_90d", "orders_prev_90d"]
    counts += ["revenue_90d", "sessions_30d", "sessions_prev_30d"]
    out[counts] = out[counts].fillna(0)
    if orders_only:
        nulls = [*STATIC, "signup_at", "tenure_days", "sessions_30d", "sessions_prev_30d"]
        out[[*nulls, "days_since_last_visit"]] = None
    out["as_of_date"] = cutoff
    return out.sort_values("customer_id").reset_index(drop=True)


def warehouse_frames(customers, orders, visits, orders_only=False, cutoffs=3):
    """(history, labels, current) as the lead reads them; labels from the real label SQL
    (the dbt model marts.churn_labels, compiled)."""
    parts = []
    for k in range(1, cutoffs + 1):
        cut = AS_OF - pd.Timedelta(days=k * HORIZON)
        h = features_as_of(customers, orders, visits, cut, orders_only)
        h["cutoff_date"] = cut
        parts.append(h)
    history = pd.concat(parts, ignore_index=True)
    current = features_as_of(customers, orders, visits, AS_OF, orders_only)
    return history, run_label_query(orders, history, current), current


def run_label_query(orders, history, current) -> pd.DataFrame:
    """Run the churn_labels model's SQL (horizon HORIZON) in DuckDB over marts-shaped tables."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.register("o", orders)
        con.register("h", history)
        con.register("c", current)
        con.execute(
            "create table marts.fct_orders as select customer_id, order_id, status,"
            " cast(order_date as date) as order_date, is_completed from o"
        )
        con.execute(
            "create table marts.customer_360_history as"
            " select customer_id, cast(cutoff_date as date) as cutoff_date from h"
        )
        con.execute(
            "create table marts.customer_360 as"
            " select customer_id, cast(as_of_date as date) as as_of_date from c"
        )
        sql = compiled_model_sql("churn_labels", json.dumps({"churn_horizon_days": HORIZON}))
        return con.execute(sql + " order by cutoff_date, customer_id").df()


@pytest.fixture(scope="module")
def shop():
    return simulate()


@pytest.fixture(scope="module")
def frames(shop):
    return warehouse_frames(*shop)


@pytest.fixture(scope="module")
def result(frames):
    history, labels, current = frames
    return train_and_score_churn(history, labels, current, PARAMS, run_at=RUN_AT)


# --- the point-in-time guard (label window edges: dbt unit test on churn_labels) ------


def test_point_in_time_guard_accepts_as_of_features(frames) -> None:
    history, _, _ = frames
    check_point_in_time(history)


def test_point_in_time_guard_trips_on_features_computed_after_the_cutoff(shop) -> None:
    customers, orders, visits = shop
    cut = AS_OF - pd.Timedelta(days=2 * HORIZON)
    # A buggy mart that computes the cutoff's features from all orders (through as-of).
    leaky = features_as_of(customers, orders, visits, AS_OF)
    leaky = leaky[leaky["signup_at"] <= cut].copy()
    leaky["cutoff_date"] = cut
    with pytest.raises(LeakageError, match="last_order_at after cutoff_date"):
        check_point_in_time(leaky)
    # Even when the timestamps are dropped, recency measured from the wrong date shows.
    honest = features_as_of(customers, orders, visits, cut)
    honest["cutoff_date"] = cut
    shifted = honest.copy()
    shifted["recency_days"] = shifted["recency_days"] - 30
    with pytest.raises(LeakageError, match="recency_days"):
        check_point_in_time(shifted)
    with pytest.raises(LeakageError):
        train_and_score_churn(leaky, pd.DataFrame(), leaky, PARAMS, run_at=RUN_AT)


def test_nothing_after_a_cutoff_reaches_its_features(shop) -> None:
    customers, orders, visits = shop
    eval_cut = AS_OF - pd.Timedelta(days=HORIZON)
    history, labels, current = warehouse_frames(customers, orders, visits)
    # Rewrite the future: drop every order and visit after the held-out cutoff and give every
    # other customer a new order soon after it. Labels of the held-out window and today's
    # features change; the cutoffs' features and the held-out predictions must not.
    late = orders["order_date"] > eval_cut
    burst = orders[~late].drop_duplicates("customer_id").iloc[::2].copy()
    burst["order_id"] = "burst-" + burst["order_id"]
    burst["order_date"] = eval_cut + pd.Timedelta(days=5)
    burst["ordered_at"] = burst["order_date"] + pd.Timedelta(hours=9)
    burst["is_completed"] = True
    orders2 = pd.concat([orders[~late], burst], ignore_index=True)
    visits2 = visits[visits["visit_date"] <= eval_cut]
    history2, labels2, current2 = warehouse_frames(customers, orders2, visits2)

    pd.testing.assert_frame_equal(history, history2)
    eval_labels = labels[labels["cutoff_date"] == eval_cut]["churned"].to_numpy()
    eval_labels2 = labels2[labels2["cutoff_date"] == eval_cut]["churned"].to_numpy()
    assert (eval_labels != eval_labels2).sum() > 50
    assert not current.equals(current2)

    first = train_and_score_churn(history, labels, current, PARAMS, run_at=RUN_AT)
    second = train_and_score_churn(history2, labels2, current2, PARAMS, run_at=RUN_AT)
    cols = ["customer_id", "churn_probability", "recency_probability", "rfm_logistic_probability"]
    pd.testing.assert_frame_equal(first.holdout[cols], second.holdout[cols])
    assert first.metrics["roc_auc"] != second.metrics["roc_auc"]


def test_training_uses_only_cutoffs_whose_window_ends_before_the_holdout(result) -> None:
    window = json.loads(result.run.to_row()["data_window"])
    eval_cut = AS_OF - pd.Timedelta(days=HORIZON)
    assert window["eval_cutoff"] == str(eval_cut.date())
    assert window["train_cutoffs"] == [
        str((AS_OF - pd.Timedelta(days=k * HORIZON)).date()) for k in (3, 2)
    ]
    assert result.metrics["calibration_split"] == "grouped"
    assert "churned" not in result.metrics["features"]


# --- scoring, drivers, outputs -----------------------------------------------------------


def test_every_customer_gets_a_score(frames, result) -> None:
    _, _, current = frames
    s = result.scores
    assert list(s.columns[:7]) == [
        "customer_id",
        "churn_probability",
        "risk_band",
        "top_drivers",
        "horizon_days",
        "model_version",
        "scored_at",
    ]
    assert s["customer_id"].is_unique and set(s["customer_id"]) == set(current["customer_id"])
    assert s["churn_probability"].between(0, 1).all()
    assert (s["horizon_days"] == HORIZON).all()
    prospects = current.loc[current["frequency"] == 0, "customer_id"]
    rule = s[s["customer_id"].isin(prospects)]
    assert len(rule) > 0 and (rule["scored_by"] == "prospect_rule").all()
    assert (rule["top_drivers"] == "no purchase yet").all()
    assert rule["churn_probability"].nunique() == 1


def test_model_learns_the_planted_signal_and_beats_recency(result) -> None:
    baselines = json.loads(result.run.to_row()["baseline_metrics"])
    assert result.metrics["roc_auc"] > 0.8
    assert result.metrics["roc_auc"] > baselines["recency"]["roc_auc"]
    assert result.metrics["brier"] < baselines["recency"]["brier"]
    assert result.metrics["brier"] < baselines["rfm_logistic"]["brier"]
    for key in ("pr_auc", "lift_top_decile", "calibration_curve"):
        assert key in result.metrics and key in baselines["recency"]
    figures = churn_plots.figures(result)
    assert set(figures) == {"churn_roc", "churn_calibration", "churn_lift"}
    title, subtitle = headline_text(figures["churn_lift"])
    assert title.startswith("Churn model finds ") and "in the top decile" in title
    window = result.run.data_window
    assert f"{window['n_eval']:,} customers as of {window['eval_cutoff']}" in subtitle
    assert f"AUC {result.metrics['roc_auc']:.2f} vs " in headline_text(figures["churn_roc"])[0]


def test_drivers_explain_long_gaps_in_words(frames, result) -> None:
    _, _, current = frames
    s = result.scores.merge(current[["customer_id", "recency_days"]], on="customer_id")
    lapsed = s[(s["risk_band"] == "high") & (s["recency_days"] > 200)]
    assert len(lapsed) >= 5
    for row in lapsed.itertuples():
        drivers = row.top_drivers.split("; ")
        assert 1 <= len(drivers) <= 3
        assert any(
            d.startswith(f"no purchase for {int(row.recency_days)} days")
            or d.startswith("no visit for")
            or d.startswith("no orders in the last 90 days")
            for d in drivers
        ), row.top_drivers


def test_orders_only_data_trains_and_scores(shop) -> None:
    history, labels, current = warehouse_frames(*shop, orders_only=True)
    out = train_and_score_churn(history, labels, current, PARAMS, run_at=RUN_AT)
    used = out.metrics["features"]
    assert not {"sessions_30d", "days_since_last_visit", "gender", "tenure_days"} & set(used)
    assert {"recency_days", "frequency"} <= set(used)
    assert set(out.scores["customer_id"]) == set(current["customer_id"])
    assert out.scores["churn_probability"].between(0, 1).all()
    assert out.metrics["roc_auc"] > 0.8
    assert out.fairness.empty  # no protected attributes to audit


def test_reruns_with_the_same_seed_give_the_same_outputs(frames, result) -> None:
    history, labels, current = frames
    again = train_and_score_churn(
        history.sample(frac=1.0, random_state=1),
        labels.sample(frac=1.0, random_state=2),
        current.sample(frac=1.0, random_state=3),
        PARAMS,
        run_at=RUN_AT,
    )
    pd.testing.assert_frame_equal(result.scores, again.scores)
    pd.testing.assert_frame_equal(result.fairness, again.fairness)
    assert result.run.to_row() == again.run.to_row()


def test_risk_bands_follow_the_configured_thresholds() -> None:
    prob = np.array([0.0, 0.29, 0.3, 0.59, 0.6, 1.0])
    assert risk_band(prob, (0.3, 0.6)).tolist() == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    assert risk_band(prob, (0.5, 0.9)).tolist()[3:] == ["medium", "medium", "high"]


# --- fairness and drift ------------------------------------------------------------------


def test_fairness_audit_reports_every_group_and_flags_a_planted_gap(result) -> None:
    f = result.fairness
    assert set(f["attribute"]) == set(STATIC)
    assert {"positive_rate", "auc", "mean_score", "flagged", "model_version"} <= set(f.columns)
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"group": np.repeat(["a", "b"], 200)})
    scores["churn_probability"] = np.where(scores["group"] == "a", 0.8, 0.2) + rng.normal(
        0, 0.05, 400
    )
    audit = evaluation.fairness_audit(scores, ["group"], gap_threshold=0.1)
    assert audit["flagged"].all()
    even = scores.assign(churn_probability=rng.uniform(0, 1, 400))
    assert not evaluation.fairness_audit(even, ["group"], gap_threshold=0.1)["flagged"].any()


def test_psi_is_zero_for_the_same_data_and_warns_on_a_shift(frames, result) -> None:
    history, labels, current = frames
    rng = np.random.default_rng(1)
    same = rng.normal(size=5000)
    assert evaluation.psi(same, rng.normal(size=5000)) < 0.02
    assert evaluation.psi(same, rng.normal(1.0, 1.0, 5000)) > 0.2
    assert (
        evaluation.psi(pd.Series(["a"] * 50 + ["b"] * 50), pd.Series(["a"] * 90 + ["c"] * 10)) > 0.2
    )
    assert result.drift.empty  # no previous run
    shifted = current.assign(recency_days=current["recency_days"] + 120)
    later = train_and_score_churn(
        history, labels, shifted, PARAMS, previous_drift_profile=result.drift_profile, run_at=RUN_AT
    )
    drift = later.drift.set_index("feature")
    assert drift.loc["recency_days", "status"] == "warn"
    assert drift.loc["frequency", "psi"] < 0.01
    assert drift.loc["churn_probability", "psi"] > 0.2


# --- one calibrated model: held-out calibration rows, subsampling, vectorised drivers ----


def test_calibration_rows_are_whole_customers_held_out_of_tree_training(frames) -> None:
    history, labels, _ = frames
    ex = build_examples(history, labels)
    ex = ex[ex["eligible"]].reset_index(drop=True)
    cal, how = calibration_rows(ex, PARAMS)
    assert how == "grouped"
    assert 0.1 < cal.mean() < 0.3
    assert not set(ex.loc[cal, "customer_id"]) & set(ex.loc[~cal, "customer_id"])
    assert ex.loc[cal, "churned"].nunique() == 2
    # "time": the latest training cutoff calibrates, trees see only earlier windows.
    cal_t, how_t = calibration_rows(ex, ChurnParams(horizon_days=HORIZON, calibration_cv="time"))
    assert how_t == "time"
    assert ex.loc[cal_t, "cutoff_date"].nunique() == 1
    assert ex.loc[cal_t, "cutoff_date"].iloc[0] == ex["cutoff_date"].max()


def test_final_model_reports_its_training_rows(frames, result) -> None:
    history, labels, _ = frames
    window = json.loads(result.run.to_row()["data_window"])
    m = result.metrics
    assert m["calibration_rows"] > 0 and m["tree_rows"] > 0
    assert m["tree_rows"] + m["calibration_rows"] == window["n_final"]
    assert m["training_rows"] == m["training_rows_available"] and not m["subsampled"]
    assert 0 < m["gbm_iterations"] <= PARAMS.max_iter
    assert m["holdout_model"]["tree_rows"] < m["tree_rows"]


def test_training_rows_are_subsampled_by_cutoff_and_label_above_the_cap(frames) -> None:
    history, labels, current = frames
    params = ChurnParams(horizon_days=HORIZON, seed=3, max_iter=80, max_train_rows=300)
    out = train_and_score_churn(history, labels, current, params, run_at=RUN_AT)
    m = out.metrics
    assert m["subsampled"] and m["training_rows_available"] > 300
    assert abs(m["training_rows"] - 300) <= 3
    assert set(out.scores["customer_id"]) == set(current["customer_id"])
    assert out.scores["churn_probability"].between(0, 1).all()


def test_stratified_subsample_keeps_stratum_shares() -> None:
    strata = np.array(["a1"] * 600 + ["a0"] * 200 + ["b1"] * 150 + ["b0"] * 50)
    rows = stratified_subsample(strata, 400, seed=0)
    assert len(rows) == 400 and len(set(rows)) == 400 and (np.diff(rows) > 0).all()
    got = pd.Series(strata[rows]).value_counts().to_dict()
    assert got == {"a1": 240, "a0": 80, "b1": 60, "b0": 20}
    assert (stratified_subsample(strata, 5000, seed=0) == np.arange(1000)).all()


def test_vectorised_drivers_match_resetting_each_customer_in_the_frame(frames, result) -> None:
    _, _, current = frames
    model = result.model
    cur = features.prepare(current.sort_values("customer_id").reset_index(drop=True))
    cur = cur[features.is_purchaser(cur)].reset_index(drop=True).iloc[:40]
    matrix = model.matrix(cur)
    ref = reference(matrix, len(model.spec.numeric))
    base = model.predict(cur)
    np.testing.assert_allclose(model.predict_matrix(matrix), base)
    # Resetting the recency group in the customer frame (not the matrix) moves the score
    # exactly as the matrix path does.
    cols = driver_groups(model.spec)["recency"]
    frame_reset = cur.copy()
    for c in cols:
        frame_reset[c] = ref[model.spec.columns.index(c)]
    reset_matrix = matrix.copy()
    reset_matrix[:, [model.spec.columns.index(c) for c in cols]] = [
        ref[model.spec.columns.index(c)] for c in cols
    ]
    np.testing.assert_allclose(model.predict(frame_reset), model.predict_matrix(reset_matrix))
    # A categorical feature: its reference is the most common category.
    j = model.spec.columns.index("gender")
    top = model.codes.categories_[model.spec.categorical.index("gender")][int(ref[j])]
    assert (cur["gender"] == top).sum() == cur["gender"].value_counts().max()
    reset_matrix = matrix.copy()
    reset_matrix[:, j] = ref[j]
    np.testing.assert_allclose(
        model.predict(cur.assign(gender=top)), model.predict_matrix(reset_matrix)
    )
    texts = explain(model, cur, PARAMS)
    assert len(texts) == len(cur) and texts.str.len().gt(0).all()
