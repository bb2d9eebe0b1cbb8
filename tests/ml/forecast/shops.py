"""Small order-level shops for the forecast tests, aggregated as the dbt marts do.

daily_demand (day x category x region, an order counted once per category in its basket)
and daily_orders (day x region x customer country, distinct orders), zero-filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

END = pd.Timestamp("2025-06-30")
WEEKLY = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.4, 1.3])


def basket_orders(
    regions: dict[str, tuple[float, dict[str, float]]],
    categories: tuple[str, ...] = ("dairy", "bakery", "produce", "drinks"),
    days: int = 240,
    seed: int = 3,
    basket_categories: tuple[int, int] = (1, 3),
) -> pd.DataFrame:
    """Order lines (order_id, demand_date, store_region, customer_country, category).

    regions: region -> (orders per day, customer country -> share). Each basket holds
    between basket_categories[0] and [1] distinct categories.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(END - pd.Timedelta(days=days - 1), END, freq="D")
    rows, order_id = [], 0
    for region, (rate, countries) in regions.items():
        names, shares = list(countries), np.array(list(countries.values()))
        for day in dates:
            for _ in range(rng.poisson(rate * WEEKLY[day.dayofweek])):
                order_id += 1
                country = names[rng.choice(len(names), p=shares / shares.sum())]
                k = rng.integers(basket_categories[0], basket_categories[1] + 1)
                for category in rng.choice(categories, size=k, replace=False):
                    rows.append((order_id, day.date(), region, country, str(category)))
    return pd.DataFrame(
        rows, columns=["order_id", "demand_date", "store_region", "customer_country", "category"]
    )


def daily_demand(lines: pd.DataFrame) -> pd.DataFrame:
    """marts.daily_demand of these lines: orders with a line in the category, per day."""
    observed = lines.groupby(["demand_date", "category", "store_region"])["order_id"].nunique()
    grid = pd.MultiIndex.from_product(
        [
            pd.date_range(lines["demand_date"].min(), lines["demand_date"].max()).date,
            sorted(lines["category"].unique()),
            sorted(lines["store_region"].unique()),
        ],
        names=["demand_date", "category", "store_region"],
    )
    orders = observed.reindex(grid, fill_value=0).rename("orders").reset_index()
    return orders.assign(units=orders["orders"] * 2, revenue=orders["orders"] * 10.0)


def daily_orders(lines: pd.DataFrame) -> pd.DataFrame:
    """marts.daily_orders of these lines: distinct orders per day x region x country."""
    orders = lines.drop_duplicates("order_id")
    return (
        orders.groupby(["demand_date", "store_region", "customer_country"])["order_id"]
        .nunique()
        .rename("orders")
        .reset_index()
    )
