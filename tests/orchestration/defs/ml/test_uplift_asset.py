"""The uplift asset: nothing written below the floors; scores written above; erasure reaches
every table that holds a person's uplift rows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import yaml

from orchestration.defs.ml.uplift import uplift_scores
from orchestration.lib.resources import ModelsResource, WarehouseResource
from segmint.activation import check_audience, targeting_columns
from segmint.activation.audience import audience_from_mapping
from segmint.catalog import has_table
from segmint.erasure import forget
from tests.conftest import make_settings
from tests.ml.uplift.test_uplift_model import campaign

SMALL = {"min_treated": 100, "min_control": 100, "min_purchasers": 10}
README = Path(__file__).resolve().parents[4] / "README.md"


def readme_audiences() -> list[dict]:
    """The README's uplift-targeted and churn-targeted example audiences."""
    text = README.read_text(encoding="utf-8")
    part = text.split("An uplift-targeted audience next to", 1)[1].split("offline", 1)[0]
    blocks = part.split("```yaml\n")[1:]
    return [yaml.safe_load(block.split("```", 1)[0]) for block in blocks]


def _warehouse(tmp_path: Path, training: pd.DataFrame):
    settings = make_settings(tmp_path, tmp_path / "landing")
    settings.warehouse.parent.mkdir(parents=True)
    features = training[["customer_id", "email_open_rate", "frequency"]].drop_duplicates()
    discounts = features[["customer_id"]].assign(  # noqa: F841 - read by name in SQL
        discount_share_index=1.0, discount_purchase_rate_lift=1.0
    )
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.uplift_training as select * from training")
        con.execute("create table marts.customer_360 as select * from features")
        con.execute("create table marts.discount_sensitivity as select * from discounts")
    return settings


def _materialize(settings, **config):
    return dg.materialize(
        [uplift_scores],
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "models": ModelsResource.from_settings(settings),
        },
        run_config={"ops": {"ml__uplift_scores": {"config": config}}} if config else None,
    )


def test_a_pipeline_without_past_exports_writes_no_uplift_rows(twice) -> None:
    """The shared seeded run has no export history: no outcomes, so no scores and no run."""
    with duckdb.connect(str(twice.settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.uplift_training").fetchone()[0] == 0
        assert not has_table(con, "ml", "uplift_scores")
        runs = con.execute("select count(*) from ml.model_runs where model = 'uplift'")
        assert runs.fetchone()[0] == 0
        column = con.execute(
            "select count(*), count(uplift_purchase) from marts.customer_targeting"
        ).fetchone()
        assert column[0] > 0 and column[1] == 0
        schema = targeting_columns(con)
    # an audience may target the top 30% by uplift, discount-sensitive customers only
    audience = audience_from_mapping(
        {
            "name": "top_uplift_discount",
            "conditions": {
                "all": [
                    {"column": "uplift_purchase_pct", "op": ">", "value": 0.7},
                    {"column": "discount_share_index", "op": ">=", "value": 1.5},
                ]
            },
            "destinations": ["csv"],
        },
        "top_uplift_discount.yml",
    )
    assert check_audience(audience, schema) == []
    # the README's pair: top 30% by uplift next to high churn risk, over the same customers
    pair = readme_audiences()
    assert [a["name"] for a in pair] == ["lapsed_top_uplift", "lapsed_high_churn_risk"]
    for example in pair:
        assert check_audience(audience_from_mapping(example, "README.md"), schema) == []
    uplift, churn = ({c["column"] for c in a["conditions"]["all"]} for a in pair)
    assert uplift - churn == {"uplift_purchase_pct"} and churn - uplift == {"risk_band"}
    assert schema["uplift_purchase"] == "DOUBLE" and schema["uplift_revenue"] == "DECIMAL(18,2)"


def test_scores_are_written_with_their_run_and_erasure_removes_the_person(tmp_path: Path) -> None:
    training = campaign(n=1500)
    settings = _warehouse(tmp_path, training)
    result = _materialize(settings, **SMALL)
    assert result.success
    # the offline policy comparison: in the run's metrics, a table and a plot on the asset
    meta = result.asset_materializations_for_node("ml__uplift_scores")[0].metadata
    assert "| uplift | " in meta["policy_comparison"].value
    assert "plot_uplift_policies" in meta and "policy_uplift_uplift" in meta
    person = training["customer_id"].iloc[0]
    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute("select count(*) from ml.uplift_scores").fetchone()[0] == 1500
        types = dict(con.execute("describe ml.uplift_scores").fetchall()[i][:2] for i in range(5))
        assert types["uplift_revenue"] == "DECIMAL(18,2)"
        run = con.execute("select metrics, baseline_metrics from ml.model_runs").fetchall()
        assert len(run) == 1 and '"qini_purchased"' in run[0][0] and "qini" in run[0][1]
        assert '"policy_uplift_uplift"' in run[0][0] and '"policy_random_ci_low"' in run[0][0]

    forget(settings, customer_id=person, live_runs=list)

    with duckdb.connect(str(settings.warehouse)) as con:
        for table in ("ml.uplift_scores", "marts.uplift_training", "marts.discount_sensitivity"):
            left = con.execute(f"select count(*) from {table} where customer_id = ?", [person])
            assert left.fetchone()[0] == 0, table
        assert con.execute("select count(*) from ml.uplift_scores").fetchone()[0] == 1499
