"""Feature columns in words a marketer reads, for axis and tick labels.

The columns are customer_360's (dbt_project/models/marts/customer/, described in
models/intermediate/customers/_customer_features.md) and the ones ml.features.prepare
derives from them; a column without an entry is spelled out from its name.
"""

from __future__ import annotations

import re

from ml.features import CATEGORY_SHARE_PREFIX

FEATURE_WORDS: dict[str, str] = {
    # purchases (RFM)
    "recency_days": "days since last order",
    "frequency": "orders to date",
    "monetary": "total spend",
    "avg_order_value": "average order value",
    "historical_clv": "margin to date",
    "orders_30d": "orders, last 30 days",
    "orders_90d": "orders, last 90 days",
    "orders_prev_90d": "orders, 90 days before",
    "revenue_90d": "spend, last 90 days",
    "revenue_prev_90d": "spend, 90 days before",
    "mean_interpurchase_days": "days between orders",
    "tenure_days": "days as a customer",
    "distinct_categories": "categories bought",
    "discount_share": "share of spend discounted",
    "return_rate": "share of orders returned",
    "cancel_rate": "share of orders cancelled",
    # derived by ml.features.prepare
    "order_trend": "orders vs 90 days before",
    "revenue_trend": "spend vs 90 days before",
    "session_trend": "visits vs 30 days before",
    "overdue_ratio": "days since last order / usual gap",
    # visits and e-mail
    "sessions_7d": "visits, last 7 days",
    "sessions_30d": "visits, last 30 days",
    "sessions_90d": "visits, last 90 days",
    "sessions_prev_30d": "visits, 30 days before",
    "days_since_last_visit": "days since last visit",
    "engagement_trend": "visits vs month before",
    "product_views_90d": "product views, last 90 days",
    "cart_adds_90d": "cart adds, last 90 days",
    "view_to_cart_rate": "views leading to a cart add",
    "cart_to_purchase_rate": "carts leading to a purchase",
    "email_sends_90d": "e-mails sent, last 90 days",
    "email_opens_90d": "e-mails opened, last 90 days",
    "email_clicks_90d": "e-mail clicks, last 90 days",
    "email_open_rate": "e-mail open rate",
    "email_click_rate": "e-mail click rate",
    # profile
    "age": "age",
    "marketing_consent": "marketing consent",
}

_WINDOW = re.compile(r"^(?P<base>.+?)_(?P<prev>prev_)?(?P<days>\d+)d$")


def feature_words(column: str) -> str:
    """Short words for a feature column: cat_share_books -> "share of spend: books"."""
    if column in FEATURE_WORDS:
        return FEATURE_WORDS[column]
    if column.startswith(CATEGORY_SHARE_PREFIX):
        return "share of spend: " + column.removeprefix(CATEGORY_SHARE_PREFIX).replace("_", " ")
    match = _WINDOW.match(column)
    if match:
        base, days = match["base"].replace("_", " "), match["days"]
        return f"{base}, {days} days before" if match["prev"] else f"{base}, last {days} days"
    return column.removesuffix("_days").replace("_", " ") + (
        " (days)" if column.endswith("_days") else ""
    )
