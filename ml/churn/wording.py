"""Churn drivers in words: one sentence template per feature group.

A template gets the customer's row, whether their risk is above the average (`up`) and the
population reference values (median / most common category), and returns a short phrase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Template = Callable[[dict[str, Any], bool, dict[str, Any]], str]


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "unknown"
    if pct:
        return f"{float(v):.0%}"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}"


def _plural(n: float, word: str) -> str:
    return f"{_fmt(n)} {word}{'' if n == 1 else 's'}"


def _above(r: dict[str, Any], ref: dict[str, Any], col: str) -> bool:
    v, typical = r.get(col), ref.get(col)
    return (
        v is not None and typical is not None and pd.notna(v) and pd.notna(typical) and v > typical
    )


def _text_recency(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    rec = r.get("recency_days")
    if rec is None or pd.isna(rec):
        return "no purchase yet"
    if not _above(r, ref, "recency_days"):
        return f"bought {_fmt(rec)} days ago"
    gap = r.get("mean_interpurchase_days")
    usual = f" (usually every {_fmt(gap)} days)" if gap is not None and pd.notna(gap) else ""
    return f"no purchase for {_fmt(rec)} days{usual}"


def _text_order_trend(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    now, before = r.get("orders_90d"), r.get("orders_prev_90d")
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return f"{_plural(r.get('orders_30d', 0), 'order')} in the last 30 days"
    detail = f"({_fmt(now)} vs {_fmt(before)} orders in the previous 90 days)"
    if now == 0 and before > 0:
        return f"no orders in the last 90 days ({_fmt(before)} in the 90 days before)"
    if now < before:
        return (
            f"order frequency halved {detail}" if now <= before / 2 else f"ordering less {detail}"
        )
    if now > before:
        return f"ordering more often {detail}"
    return f"{_plural(now, 'order')} in the last 90 days, same as before"


def _text_frequency(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    n = r.get("frequency")
    if n is None or pd.isna(n):
        return "few orders"
    return "only 1 order so far" if n == 1 else f"{_plural(n, 'order')} in total"


def _text_spend(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    for col, label in (("monetary", "total spend"), ("avg_order_value", "average order")):
        if col in r and pd.notna(r[col]):
            return f"{label} {_fmt(r[col])} (typical {_fmt(ref.get(col))})"
    return "spend " + ("below" if up else "above") + " typical"


def _text_visits(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    d = r.get("days_since_last_visit")
    if d is not None and pd.notna(d):
        if _above(r, ref, "days_since_last_visit"):
            return f"no visit for {_fmt(d)} days"
        return f"visited {_fmt(d)} days ago"
    now, before = r.get("sessions_30d"), r.get("sessions_prev_30d")
    if now is not None and before is not None and pd.notna(now) and pd.notna(before):
        trend = "down" if now < before else "up" if now > before else "flat"
        return f"visits {trend} ({_fmt(now)} vs {_fmt(before)} sessions in the previous 30 days)"
    if r.get("sessions_90d") is not None and pd.notna(r.get("sessions_90d")):
        return f"{_plural(r['sessions_90d'], 'visit')} in 90 days"
    return "no visits recorded"


def _text_browsing(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    views = r.get("product_views_90d")
    if views is not None and pd.notna(views):
        typical = _fmt(ref.get("product_views_90d"))
        return f"{_plural(views, 'product view')} in 90 days (typical {typical})"
    return "browsing " + ("down" if up else "up")


def _text_email(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    sends = r.get("email_sends_90d")
    if sends is not None and pd.notna(sends) and sends == 0:
        return "received no emails in 90 days"
    rate = r.get("email_open_rate")
    if rate is not None and pd.notna(rate):
        typical = _fmt(ref.get("email_open_rate"), pct=True)
        low = not _above(r, ref, "email_open_rate")
        verb = "email opens down" if low else "opens emails"
        return f"{verb} ({_fmt(rate, pct=True)} open rate, typical {typical})"
    return "few email opens" if up else "opens emails"


def _text_returns(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    if "return_rate" in r and pd.notna(r["return_rate"]):
        return f"returned {_fmt(r['return_rate'], pct=True)} of orders"
    return f"cancelled {_fmt(r.get('cancel_rate'), pct=True)} of orders"


def _text_discount(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    return f"{_fmt(r.get('discount_share'), pct=True)} of spend on discount"


def _text_tenure(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    return f"customer for {_fmt(r.get('tenure_days'))} days"


def _text_categories(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    n = r.get("distinct_categories")
    top = r.get("top_category")
    text = (
        f"buys in {_plural(n, 'category').replace('categorys', 'categories')}"
        if n is not None and pd.notna(n)
        else "category mix"
    )
    if top is not None and pd.notna(top):
        text += f", mostly {top}"
    return text


def _text_consent(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
    v = r.get("marketing_consent")
    return (
        "no marketing consent"
        if v is not None and pd.notna(v) and v == 0
        else "marketing consent given"
    )


TEMPLATES: dict[str, Template] = {
    "recency": _text_recency,
    "order_trend": _text_order_trend,
    "frequency": _text_frequency,
    "spend": _text_spend,
    "visits": _text_visits,
    "browsing": _text_browsing,
    "email": _text_email,
    "returns": _text_returns,
    "discount": _text_discount,
    "tenure": _text_tenure,
    "categories": _text_categories,
    "consent": _text_consent,
}


def generic_text(col: str) -> Template:
    """A template for a feature without its own: the value against the typical one."""
    label = col.replace("_", " ")

    def text(r: dict[str, Any], up: bool, ref: dict[str, Any]) -> str:
        v = r.get(col)
        if isinstance(v, str) or (v is not None and not isinstance(v, int | float | np.number)):
            return f"{label}: {v}"
        if v is None or pd.isna(v):
            return f"{label} unknown"
        return f"{label} {_fmt(v)} (typical {_fmt(ref.get(col))})"

    return text
