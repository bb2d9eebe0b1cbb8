"""marts.customer_product_interactions and marts.product_affinity on the synthetic shop."""

from __future__ import annotations

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
