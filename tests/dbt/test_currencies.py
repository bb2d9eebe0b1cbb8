"""Mixed currencies and money as DECIMAL (#14.1, #14.2): a small two-currency shop built here.

The base currency is EUR. GBP orders convert at the latest raw.fx_rates rate dated on or
before their order date; every summed money column (revenue, monetary, AOV, CLV, demand,
cohorts) is in EUR, with the original amount and currency kept beside it; an order without a
usable rate blocks publish through the fct_orders check, which names the currencies and counts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import expectations

AS_OF = {"as_of": "2024-03-31"}
D = Decimal


def _customer(cid: str, country: str) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "email": f"{cid.lower()}@example.com",
        "country": country,
        "signup_at": datetime(2023, 12, 1, 9),
        "marketing_consent": True,
    }


def _order(oid: str, cid: str, at: datetime, amount: float, currency: str | None, **kw) -> dict:
    return {
        "order_id": oid,
        "customer_id": cid,
        "ordered_at": at,
        "status": kw.get("status", "completed"),
        "channel": "web",
        "store_region": kw.get("region", "north"),
        "total_amount": amount,
        "discount_amount": kw.get("discount", 0),
        "currency": currency,
    }


def two_currency_shop() -> dict[str, list[dict[str, Any]]]:
    """Customers A (EUR), B and C (GBP); monthly GBP rates; one order with no currency."""
    return {
        "customers": [_customer("A", "DE"), _customer("B", "GB"), _customer("C", "GB")],
        "products": [
            {"product_id": "P1", "category": "Toys", "unit_price": 10, "unit_cost": 6},
            {"product_id": "P2", "category": "Books", "unit_price": 5, "unit_cost": 2},
        ],
        "fx_rates": [
            {"date": date(2024, 1, 1), "currency": "GBP", "rate_to_base": 1.15},
            {"date": date(2024, 2, 1), "currency": "gbp", "rate_to_base": 1.2},
            {"date": date(2024, 3, 1), "currency": "GBP", "rate_to_base": 1.1},
            {"date": date(2024, 1, 1), "currency": "USD", "rate_to_base": 0.92},
        ],
        "orders": [
            _order("O1", "A", datetime(2024, 1, 10, 12), 100.10, "EUR"),
            # the last minutes of January still convert at January's rate
            _order("O2", "B", datetime(2024, 1, 31, 23, 0), 50.00, "GBP"),
            _order("O3", "B", datetime(2024, 2, 1, 0, 30), 33.33, "GBP", region="south"),
            _order("O4", "C", datetime(2024, 3, 15, 8), 0.10, " gbp "),
            _order("O5", "C", datetime(2024, 2, 15, 8), 200.00, "GBP", status="cancelled"),
            _order("O6", "A", datetime(2024, 3, 20, 8), 19.98, None),
        ],
        "order_items": [
            {"order_id": "O1", "product_id": "P1", "quantity": 10, "unit_price": 10.01},
            {"order_id": "O2", "product_id": "P1", "quantity": 5, "unit_price": 10.00},
            {"order_id": "O4", "product_id": "P2", "quantity": 1, "unit_price": 0.10},
        ],
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from tests.dbt.helpers import DbtProject, make_warehouse

    workdir = tmp_path_factory.mktemp("two_currencies")
    project = DbtProject(make_warehouse(workdir / "segmint.duckdb", two_currency_shop()), workdir)
    project.build(vars=AS_OF)
    return project


def test_orders_convert_at_the_latest_rate_on_or_before_their_date(shop) -> None:
    rows = shop.query(
        "select order_id, currency, total_amount, fx_rate_to_base, fx_rate_date, "
        "total_amount_base from marts.fct_orders order by order_id"
    )
    assert rows == [
        ("O1", "EUR", D("100.10"), D("1"), None, D("100.10")),
        ("O2", "GBP", D("50.00"), D("1.15"), date(2024, 1, 1), D("57.50")),
        ("O3", "GBP", D("33.33"), D("1.2"), date(2024, 2, 1), D("40.00")),  # 39.996
        ("O4", "GBP", D("0.10"), D("1.1"), date(2024, 3, 1), D("0.11")),
        ("O5", "GBP", D("200.00"), D("1.2"), date(2024, 2, 1), D("240.00")),
        ("O6", "EUR", D("19.98"), D("1"), None, D("19.98")),  # no currency: the base one
    ]
    lines = shop.query(
        "select order_id, currency, line_revenue, line_revenue_base, line_cost, line_margin "
        "from marts.fct_order_items order by order_id"
    )
    assert lines == [
        ("O1", "EUR", D("100.10"), D("100.10"), D("60.00"), D("40.10")),
        ("O2", "GBP", D("50.00"), D("57.50"), D("30.00"), D("27.50")),
        ("O4", "GBP", D("0.10"), D("0.11"), D("2.00"), D("-1.89")),
    ]


def test_every_summed_money_column_is_in_the_base_currency(shop) -> None:
    c360 = {
        r[0]: r[1:]
        for r in shop.query(
            "select customer_id, monetary, avg_order_value, historical_clv, revenue_90d "
            "from marts.customer_360"
        )
    }
    # B: 57.50 + 40.00 (the cancelled order of C never counts); CLV = O2's margin + O3's amount
    assert c360["B"] == (D("97.50"), 48.75, D("67.50"), D("97.50"))
    assert c360["A"] == (D("120.08"), 60.04, D("60.08"), D("120.08"))
    assert c360["C"][0] == D("0.11")
    assert shop.query("select customer_id, monetary from marts.customer_rfm order by 1") == [
        ("A", D("120.08")),
        ("B", D("97.50")),
        ("C", D("0.11")),
    ]
    by_month = shop.query(
        "select month(demand_date), sum(revenue) from marts.daily_demand group by 1 order by 1"
    )
    assert by_month == [(1, D("157.60")), (2, D("40.00")), (3, D("20.09"))]
    assert shop.scalar("select sum(revenue) from marts.cohort_retention") == D("217.69")
    daily = shop.scalar("select sum(revenue) from intermediate.int_customer_daily_activity")
    assert daily == D("217.69")


def test_money_is_decimal_with_cents_in_every_mart(shop) -> None:
    types = dict(
        shop.query(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and column_name in ('total_amount', 'total_amount_base',"
            " 'discount_amount_base', 'line_revenue', 'line_revenue_base', 'gross_margin',"
            " 'monetary', 'revenue', 'revenue_90d', 'historical_clv', 'line_margin')"
        )
    )
    assert len(types) >= 15, types
    assert {t for name, t in types.items()} == {"DECIMAL(18,2)"}, types
    # Sums print with exactly their cents: no 0.30000000000000004 anywhere.
    for (value,) in shop.query(
        "select cast(sum(monetary) as varchar) from marts.customer_360 union all "
        "select cast(sum(revenue) as varchar) from marts.daily_demand union all "
        "select cast(avg_order_value as varchar) from marts.customer_360"
    ):
        assert len(value.partition(".")[2]) <= 2, value
    assert shop.scalar("select typeof(monetary) from marts.customer_targeting limit 1") == (
        "DECIMAL(18,2)"
    )


def test_fct_orders_check_passes_when_every_order_has_a_rate(shop) -> None:
    outcome = expectations.validate(shop.warehouse, "marts.fct_orders")
    assert not outcome.failed, outcome.summary()


def test_orders_without_a_usable_rate_block_publish_naming_currencies_and_counts(
    dbt_factory,
) -> None:
    data = two_currency_shop()
    # GBP rates start in February (two January GBP orders have none); no USD rate exists
    # before March (three USD orders in February); the EUR orders need none.
    data["fx_rates"] = [
        {"date": date(2024, 2, 1), "currency": "GBP", "rate_to_base": 1.2},
        {"date": date(2024, 3, 1), "currency": "USD", "rate_to_base": 0.92},
    ]
    data["orders"] += [
        _order("O7", "B", datetime(2024, 1, 5, 8), 10.00, "GBP"),
        *(_order(f"U{i}", "A", datetime(2024, 2, 10 + i, 8), 30.00, "USD") for i in range(3)),
    ]
    project = dbt_factory(data)
    project.build(vars=AS_OF)

    outcome = expectations.validate(project.warehouse, "marts.fct_orders")
    assert outcome.blocking_failed
    (failure,) = outcome.errors
    rows = failure.details["details"]["unexpected_rows"]
    assert [(r["currency"], r["orders_without_rate"]) for r in rows] == [("USD", 3), ("GBP", 2)]
    line = failure.line()
    assert "USD" in line and '"orders_without_rate": 3' in line and "GBP" in line, line
    # Nothing unconverted is summed: B's monetary holds only its converted February order.
    assert project.scalar("select monetary from marts.customer_360 where customer_id = 'B'") == (
        D("40.00")
    )


def test_a_rate_loaded_later_converts_its_orders_on_the_next_incremental_run(
    dbt_factory,
) -> None:
    from tests.dbt.helpers import LOADED_AT

    data = two_currency_shop()
    data["fx_rates"] = []
    project = dbt_factory(data)
    project.build(vars=AS_OF)
    base = "select total_amount_base from marts.fct_orders where order_id = 'O2'"
    assert project.scalar(base) is None

    project.insert(
        "fx_rates",
        [{"date": date(2024, 1, 1), "currency": "GBP", "rate_to_base": 1.15}],
        loaded_at=LOADED_AT + timedelta(days=1),
    )
    project.build(vars=AS_OF)  # incremental: only orders the new rate applies to are redone
    assert project.scalar(base) == D("57.50")
    assert project.scalar(
        "select line_revenue_base from marts.fct_order_items where order_id = 'O2'"
    ) == D("57.50")
    # O3..O5 (February, March) convert at the January rate too: it is the latest one
    assert (
        project.scalar("select count(*) from marts.fct_orders where fx_rate_to_base is null") == 0
    )
    assert project.scalar("select monetary from marts.customer_360 where customer_id = 'B'") == D(
        "57.50"
    ) + D("38.33")
