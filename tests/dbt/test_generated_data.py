"""dbt build on data from segmint's own generator and ingest (all tables, and orders only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segmint.ingest import ingest
from segmint.sample import generate
from tests.dbt.helpers import DbtProject


def _columns(project: DbtProject, relation: str) -> list[str]:
    schema, name = relation.split(".")
    return [
        r[0]
        for r in project.query(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        )
    ]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated landing folder: ~300 customers over 200 days (Parquet)."""
    out = tmp_path_factory.mktemp("dbt_landing")
    generate(out, customers=300, days=200, seed=11, fmt="parquet")
    return out


@pytest.fixture(scope="module")
def generated(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """The generated landing data, ingested and built once."""
    workdir = tmp_path_factory.mktemp("generated")
    ingest(landing, workdir / "segmint.duckdb")
    project = DbtProject(workdir / "segmint.duckdb", workdir)
    project.build()  # green: every test and singular reconciliation passes
    return project


def test_generated_data_fills_every_feature_group(generated: DbtProject):
    c360 = _columns(generated, "marts.customer_360")
    shares = [c for c in c360 if c.startswith("cat_share_")]
    assert len(shares) >= 3
    counts = generated.query(
        "select count(*), count(gender), count(frequency), count(rfm_class),"
        " count(sessions_30d), count(email_open_rate), count(distinct rfm_class)"
        " from marts.customer_360"
    )[0]
    rows, gender, frequency, rfm, sessions, email, classes = counts
    assert rows > 100
    assert gender > 0 and frequency == rows and rfm > 0 and sessions == rows and email > 0
    assert classes >= 5
    assert generated.scalar("select count(*) from marts.fct_sessions") > 0
    assert generated.scalar("select count(*) from marts.customer_360_history") > 0


def test_generated_revenue_reconciles_with_raw(generated: DbtProject):
    raw = generated.scalar(
        """
        select sum(total_amount) from (
            select total_amount, lower(trim(status)) as status, row_number() over (
                partition by order_id order by _loaded_at desc, _source_file desc, _source_line desc
            ) as rn
            from raw.orders
        ) where rn = 1 and status = 'completed'
        """
    )
    fct = generated.scalar("select sum(total_amount) from marts.fct_orders where is_completed")
    assert float(fct) == pytest.approx(float(raw))


def test_orders_only_generated_data_builds(landing: Path, tmp_path: Path):
    orders_only = tmp_path / "landing"
    shutil.copytree(landing / "orders", orders_only / "orders")
    ingest(orders_only, tmp_path / "segmint.duckdb")
    project = DbtProject(tmp_path / "segmint.duckdb", tmp_path)
    assert project.scalar("select count(*) from raw.events") == 0
    project.build()
    assert project.scalar("select count(*) from marts.fct_sessions") == 0
    assert project.scalar("select count(*) from marts.customer_engagement") == 0
    nulls = project.query(
        "select count(*), count(sessions_90d), count(gender), count(distinct_categories),"
        " count(frequency) from marts.customer_360"
    )[0]
    assert nulls[0] > 0 and nulls[1:4] == (0, 0, 0) and nulls[4] == nulls[0]
    assert project.scalar("select count(*) from marts.daily_demand where orders > 0") > 0
