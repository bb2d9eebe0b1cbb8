"""Segment names and descriptions an operator can read, from the segments' profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import features


def _humanise_category(column: str) -> str:
    return column.removeprefix(features.CATEGORY_SHARE_PREFIX).replace("_", " ")


def segment_name(z: pd.Series, means: pd.Series, overall: pd.Series, purchaser_share: float) -> str:
    """A short deterministic name from a segment's z-scores against all customers."""

    def zget(*cols: str) -> float:
        vals = [z[c] for c in cols if c in z.index and pd.notna(z[c])]
        return float(np.mean(vals)) if vals else 0.0

    traits: list[str] = []
    if zget("discount_share") >= 0.75:
        traits.append("bargain hunters")
    shares = [c for c in means.index if c.startswith(features.CATEGORY_SHARE_PREFIX)]
    if shares:
        ratio = {c: means[c] / overall[c] if overall[c] > 0 else 0.0 for c in shares}
        best = max(sorted(ratio), key=lambda c: ratio[c])
        if ratio[best] >= 1.8 and means[best] >= 0.35:
            traits.append(f"{_humanise_category(best)} lovers")
    if zget("return_rate") >= 1.0:
        traits.append("frequent returners")
    if zget("sessions_90d", "product_views_90d") >= 0.75:
        traits.append("engaged browsers")
    elif zget("email_open_rate", "email_click_rate") >= 0.75:
        traits.append("email readers")
    noun = traits[0] if traits else "customers"

    if purchaser_share < 0.5:
        if zget("sessions_90d", "product_views_90d", "email_open_rate") >= 0.5:
            return "Engaged prospects"
        return "Prospects (no purchase yet)"
    z_rec, z_freq = zget("recency_days"), zget("frequency", "orders_90d")
    z_val = zget("monetary", "avg_order_value")
    if z_rec >= 1.0:
        stage = "lapsed"
    elif z_rec >= 0.4:
        stage = "lapsing"
    elif zget("tenure_days") <= -0.75 and z_freq <= 0:
        stage = "new"
    elif z_freq >= 0.5:
        stage = "loyal"
    elif z_rec <= -0.4:
        stage = "active"
    else:
        stage = "occasional"
    value = "high-value" if z_val >= 0.75 else "low-value" if z_val <= -0.5 else ""
    words = [w for w in (value, stage, noun) if w]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _fmt_num(v: float) -> str:
    if pd.isna(v):
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}"


def describe(
    size: int, share: float, means: pd.Series, medians: pd.Series, overall: pd.Series
) -> str:
    """One or two sentences an operator can read."""
    parts = [f"{size:,} customers ({share:.0%})."]
    facts = []
    if "recency_days" in medians.index:
        facts.append(f"last purchase a median {_fmt_num(medians['recency_days'])} days ago")
    if "frequency" in means.index:
        facts.append(f"{_fmt_num(means['frequency'])} orders on average")
    if "monetary" in means.index and overall.get("monetary", 0):
        idx = means["monetary"] / overall["monetary"]
        facts.append(f"spend {_fmt_num(means['monetary'])} ({idx:.1f}x the average)")
    if facts:
        parts.append(facts[0][0].upper() + "; ".join(facts)[1:] + ".")
    shares = [c for c in means.index if c.startswith(features.CATEGORY_SHARE_PREFIX)]
    if shares:
        best = max(sorted(shares), key=lambda c: means[c])
        parts.append(f"Top category {_humanise_category(best)} ({means[best]:.0%} of spend).")
    if "sessions_90d" in means.index:
        parts.append(f"{_fmt_num(means['sessions_90d'])} sessions in 90 days.")
    if "discount_share" in means.index:
        parts.append(f"{means['discount_share']:.0%} of spend discounted.")
    return " ".join(parts)


def unique_names(names: dict[int, str], z: pd.DataFrame) -> dict[int, str]:
    """Disambiguate duplicate names with the segment's most distinctive feature."""
    out = dict(names)
    counts = pd.Series(list(names.values())).value_counts()
    for sid in sorted(names):
        if counts[names[sid]] > 1:
            row = z.loc[sid].dropna()
            top = row.abs().sort_values(ascending=False, kind="mergesort").index[0]
            label = top.removeprefix(features.CATEGORY_SHARE_PREFIX).replace("_", " ")
            out[sid] = f"{names[sid]} ({'high' if row[top] > 0 else 'low'} {label})"
    seen: dict[str, int] = {}
    for sid in sorted(out):
        seen[out[sid]] = seen.get(out[sid], 0) + 1
        if seen[out[sid]] > 1:
            out[sid] = f"{out[sid]} #{seen[out[sid]]}"
    return out


def describe_prospects(size: int, share: float, means: pd.Series) -> str:
    """Description of the rule-based segment of customers without a purchase."""
    text = f"{size:,} customers ({share:.0%}) with no completed purchase yet."
    if "sessions_90d" in means.index and pd.notna(means["sessions_90d"]):
        text += f" {_fmt_num(means['sessions_90d'])} sessions in 90 days on average."
    return text
