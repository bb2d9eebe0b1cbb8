"""Which country's public holidays each series gets.

A region's series follow the region's country: ``forecast_region_countries`` (region -> ISO
country) when set, otherwise the most common customer country among the region's orders
(marts.daily_orders), none when no order there has a known country with a holiday
calendar. Series that span regions (total, category) follow the shop's country: the most
common customer country over all orders *when it holds at least half of the orders with a
known country* (``shop_country_min_share``); a shop selling evenly into several countries
gets no country calendar at the top, since no single calendar moves most of its orders
(the retail events still apply). Explicit settings always win (``none`` turns holidays off).
Calendars are the ``holidays`` package's (installed with Prophet), looked up offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ml.forecast.params import AUTO, UNKNOWN
from ml.forecast.series import series_key_parts

NONE_WORDS = frozenset({"", "none", "null", "off"})


def has_calendar(country: str | None) -> bool:
    """Whether the holidays package has a calendar for the code (offline, no Prophet import)."""
    if not country:
        return False
    import holidays  # lazy: only holiday resolution needs it

    return country.upper() in holidays.list_supported_countries()


def normalise_country(value: str | None) -> str | None:
    """A setting's country: None for 'none'/empty, AUTO kept, else the upper-cased code."""
    if value is None or value.strip().lower() in NONE_WORDS:
        return None
    text = value.strip()
    return AUTO if text.lower() == AUTO else text.upper()


@dataclass(frozen=True)
class HolidayPlan:
    """The resolved calendar per level and region, and where each choice came from."""

    shop_country: str | None
    shop_source: str
    region_countries: dict[str, str | None] = field(default_factory=dict)
    region_sources: dict[str, str] = field(default_factory=dict)

    def country_for(self, series_key: str) -> str | None:
        """The holiday country of a series: its region's, else the shop's."""
        region = series_key_parts(series_key).get("region")
        if region is not None and region in self.region_countries:
            return self.region_countries[region]
        return self.shop_country

    def to_json_dict(self) -> dict[str, object]:
        """For ml.model_runs params: the calendar per level (and per region) and its source."""
        regions = {
            r: {"country": self.region_countries[r], "source": self.region_sources[r]}
            for r in sorted(self.region_countries)
        }
        shop = {"country": self.shop_country, "source": self.shop_source}
        return {
            "total": shop,
            "category": shop,
            "region": regions,
            "category_region": "the region's",
        }


def _most_common(counts: pd.Series) -> tuple[str | None, float]:
    """The most common country with a calendar (ties by code) and its share of known ones."""
    counts = counts[counts > 0]
    known = float(counts.sum())
    if known == 0:
        return None, 0.0
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    for country, n in ranked:
        if has_calendar(country):
            return str(country).upper(), float(n) / known
    return None, 0.0


def _country_counts(order_counts: pd.DataFrame | None) -> pd.DataFrame:
    """Orders per (store_region, customer_country) with a known country."""
    if order_counts is None or "customer_country" not in order_counts.columns:
        return pd.DataFrame(columns=["store_region", "customer_country", "orders"])
    frame = order_counts.dropna(subset=["customer_country"])
    frame = frame.assign(
        store_region=frame["store_region"].fillna(UNKNOWN).astype(str),
        customer_country=frame["customer_country"].astype(str).str.strip().str.upper(),
    )
    frame = frame[~frame["customer_country"].str.lower().isin(NONE_WORDS | {UNKNOWN})]
    return frame.groupby(["store_region", "customer_country"], as_index=False)["orders"].sum()


def resolve_holidays(
    order_counts: pd.DataFrame | None,
    regions: list[str],
    shop_setting: str | None = AUTO,
    region_settings: Mapping[str, str | None] | None = None,
    shop_country_min_share: float = 0.5,
) -> HolidayPlan:
    """The holiday calendar per region and for the shop (see the module docstring)."""
    counts = _country_counts(order_counts)
    region_settings = {r: normalise_country(c) for r, c in (region_settings or {}).items()}
    shop_setting = normalise_country(shop_setting)
    if shop_setting == AUTO:
        shop, share = _most_common(counts.groupby("customer_country")["orders"].sum())
        if shop is None:
            shop_source = "customers: no known country with a calendar"
        elif share < shop_country_min_share:
            shop_source = (
                f"customers: most common {shop} has {share:.0%} < {shop_country_min_share:.0%}"
            )
            shop = None
        else:
            shop_source = f"customers: {shop} has {share:.0%} of orders"
    else:
        shop, shop_source = shop_setting, "setting"
    countries: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for region in sorted(set(regions) | set(region_settings)):
        if region in region_settings and region_settings[region] != AUTO:
            countries[region], sources[region] = region_settings[region], "setting"
            continue
        part = counts[counts["store_region"] == region]
        country, share = _most_common(part.set_index("customer_country")["orders"])
        countries[region] = country
        sources[region] = (
            f"customers: {country} has {share:.0%} of orders"
            if country
            else "customers: no known country with a calendar"
        )
    return HolidayPlan(shop, shop_source, countries, sources)
