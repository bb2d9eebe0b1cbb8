"""Hand-made baskets as marts.customer_product_interactions would hold them (both cutoffs)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

AS_OF = date(2026, 6, 30)
EVAL_DAYS = 30


def interactions(
    baskets: list[tuple[str, date, list[str], str]],
    products: dict[str, tuple[str, str, str]],
    as_of: date = AS_OF,
) -> pd.DataFrame:
    """Mart rows from (customer_id, order date, product ids, status) baskets and a
    catalogue {product_id: (name, category, brand)}; no events (views and carts are 0)."""
    lines = pd.DataFrame(
        [(c, d, p, s, f"{c}-{d}-{i}") for i, (c, d, ps, s) in enumerate(baskets) for p in ps],
        columns=["customer_id", "order_date", "product_id", "status", "order_id"],
    )
    frames = []
    for cutoff in (as_of - timedelta(days=EVAL_DAYS), as_of):
        upto = lines[lines["order_date"] <= cutoff]
        done = upto[upto["status"] == "completed"]
        recent = done[done["order_date"] > cutoff - timedelta(days=90)]
        keys = ["customer_id", "product_id"]
        grid = upto[keys].drop_duplicates()
        agg = done.groupby(keys).agg(
            purchase_orders=("order_id", "nunique"),
            purchase_days=("order_date", "nunique"),
            first_purchase_date=("order_date", "min"),
            last_purchase_date=("order_date", "max"),
        )
        out = grid.merge(agg.reset_index(), on=keys, how="left")
        out = out.merge(
            recent.groupby(keys).size().rename("purchase_orders_90d").reset_index(), how="left"
        )
        returned = upto[upto["status"] == "returned"].groupby(keys)["order_date"]
        returned = returned.agg(returned_orders="size", last_return_date="max")
        out = out.merge(returned.reset_index(), how="left")
        orders = done.groupby("customer_id")["order_id"].nunique().rename("customer_orders")
        out = out.merge(orders.reset_index(), how="left")
        for col in ("purchase_orders", "purchase_orders_90d", "returned_orders", "customer_orders"):
            out[col] = out[col].fillna(0).astype("int64")
        span = (
            pd.to_datetime(out["last_purchase_date"]) - pd.to_datetime(out["first_purchase_date"])
        ).dt.days
        out["repurchase_interval_days"] = (span / (out["purchase_days"] - 1)).where(
            out["purchase_days"] >= 2
        )
        out["days_since_last_purchase"] = (
            pd.Timestamp(cutoff) - pd.to_datetime(out["last_purchase_date"])
        ).dt.days
        out["product_views"] = 0
        out["cart_adds"] = 0
        out["units"] = out["purchase_orders"]
        out["interaction_weight"] = out["purchase_orders"].astype(float)
        out["cutoff_date"] = cutoff
        out["as_of_date"] = as_of
        out["product_name"] = out["product_id"].map(lambda p: products[p][0])
        out["category"] = out["product_id"].map(lambda p: products[p][1])
        out["brand"] = out["product_id"].map(lambda p: products[p][2])
        frames.append(out.drop(columns="purchase_days"))
    return pd.concat(frames, ignore_index=True)


def weekly(customer: str, product: str, weeks: int, last: date, extra: list[str] | None = None):
    """A basket every 7 days ending on `last`, holding `product` (and `extra`)."""
    return [
        (customer, last - timedelta(days=7 * w), [product, *(extra or [])], "completed")
        for w in range(weeks)
    ]
