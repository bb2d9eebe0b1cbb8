"""marts.customer_product_interactions and marts.product_affinity on the synthetic shop."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.dbt.helpers import DbtProject


def test_interactions_count_completed_orders_before_each_cutoff(built_shop: DbtProject) -> None:
    expected = built_shop.query(
        """
        select c.cutoff_date, i.customer_id, i.product_id, count(distinct i.order_id)
        from marts.fct_order_items i
        cross join (select distinct cutoff_date from marts.customer_product_interactions) c
        where i.is_completed and i.is_known_product and i.order_date <= c.cutoff_date
        group by all order by all
        """
    )
    actual = built_shop.query(
        "select cutoff_date, customer_id, product_id, purchase_orders"
        " from marts.customer_product_interactions where purchase_orders > 0 order by all"
    )
    assert expected and actual == expected
    cutoffs = built_shop.query(
        "select distinct as_of_date - cutoff_date from marts.customer_product_interactions"
    )
    assert sorted(d for (d,) in cutoffs) == [0, 30]


def test_interaction_weight_and_repurchase_interval(built_shop: DbtProject) -> None:
    rows = built_shop.query(
        """
        select purchase_orders, cart_adds, product_views, interaction_weight,
               first_purchase_date, last_purchase_date, repurchase_interval_days
        from marts.customer_product_interactions
        """
    )
    assert any(r[2] > 0 for r in rows), "the shop's product views should count"
    for orders, carts, views, weight, first, last, interval in rows:
        assert weight == pytest.approx(orders + 0.3 * carts + 0.1 * views)
        if interval is not None:
            assert 0 < interval <= (last - first).days


def test_affinity_confidence_and_lift(built_shop: DbtProject) -> None:
    total = built_shop.scalar(
        "select count(distinct order_id) from marts.fct_order_items"
        " where is_completed and is_known_product"
    )
    rows = built_shop.query(
        "select orders_together, product_orders, other_product_orders, support, confidence,"
        " lift from marts.product_affinity"
    )
    for both, a, b, support, confidence, lift in rows:
        assert both >= 3
        assert support == pytest.approx(both / total)
        assert confidence == pytest.approx(both / a)
        assert lift == pytest.approx((both / a) / (b / total))


def test_targeting_carries_the_top_suggestions_as_columns(built_shop: DbtProject, tmp_path):
    """rec_<n>_name / _price come from ml.recommendations and the catalogue; rec_<n>_url
    only exists with a product URL template."""
    db = tmp_path / "segmint.duckdb"
    shutil.copy(built_shop.warehouse, db)
    project = DbtProject(db, tmp_path)
    customer, products = built_shop.query(
        "select customer_id, list(product_id order by product_id) from marts.fct_order_items"
        " where is_known_product group by 1 having count(distinct product_id) >= 2 limit 1"
    )[0]
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists ml")
        con.execute(
            "create or replace table ml.recommendations (customer_id varchar, rank integer,"
            " product_id varchar, kind varchar, score double, reason varchar,"
            " model_version varchar, scored_at timestamp)"
        )
        con.execute(
            "insert into ml.recommendations values (?, 1, ?, 'discover', 0.9, 'r', 'v', now()),"
            " (?, 2, ?, 'discover', 0.8, 'r', 'v', now())",
            [customer, products[1], customer, products[0]],
        )
    url = "https://shop.example/p/{product_id}"
    project.run("run", "--select", "customer_targeting", vars={"product_url_template": url})
    row = project.query(
        "select t.rec_1_product_id, t.rec_1_name, t.rec_1_price, t.rec_1_url, t.rec_2_product_id,"
        " t.rec_3_name, p.product_name, p.unit_price"
        " from marts.customer_targeting t join staging.stg_raw__products p"
        " on p.product_id = t.rec_1_product_id where t.customer_id = ?",
        [customer],
    )[0]
    assert row[0] == products[1] and row[4] == products[0] and row[5] is None
    assert (row[1], row[2]) == (row[6], row[7])
    assert row[3] == f"https://shop.example/p/{products[1]}"
    project.run("run", "--select", "customer_targeting")
    cols = {r[0] for r in project.query("describe marts.customer_targeting")}
    assert {"rec_1_name", "rec_3_price"} <= cols and "rec_1_url" not in cols
