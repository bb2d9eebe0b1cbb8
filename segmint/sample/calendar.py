"""The shop's calendar: trend, weekly and yearly seasonality, holidays, promotions, campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from segmint.sample.draws import stream
from segmint.sample.params import WEEKLY_BROWSE, WEEKLY_ORDERS
from segmint.sample.reference import CAT_PEAKS, CATEGORIES

DAY = 86_400


def day_ts(cal: Calendar, day: np.ndarray) -> np.ndarray:
    """Unix seconds of the midnight starting a window day."""
    return cal.epoch0 + day.astype(np.int64) * DAY


@dataclass(frozen=True)
class Calendar:
    days: int
    epoch0: int  # unix seconds of the first day's midnight (UTC, naive)
    end_ts: int  # last second of end_date
    dow: np.ndarray
    doy: np.ndarray
    promo_depth: np.ndarray  # discount rate on promo days, 0 otherwise
    order_cum: np.ndarray  # (3, days + 1) cumulative intensity of the three order calendars
    browse_cum: np.ndarray  # (days + 1,)
    signup_cum: np.ndarray  # (days,) cumulative signup distribution
    cat_season: np.ndarray  # (days, n_categories)
    campaign_day: np.ndarray
    campaign_promo: np.ndarray


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (Mon=0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _holidays(dates: list[date]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-day multipliers: all-shoppers holiday effect, gift-buyer effect, promo depth."""
    n = len(dates)
    hol, gift, promo = np.ones(n), np.full(n, 0.45), np.zeros(n)
    index = {d: i for i, d in enumerate(dates)}

    def put(d: date, h: float, g: float, p: float = 0.0) -> None:
        i = index.get(d)
        if i is not None:
            hol[i] *= h
            gift[i] = max(gift[i], g)
            promo[i] = max(promo[i], p)

    for year in sorted({d.year for d in dates} | {dates[0].year - 1}):
        bf = _nth_weekday(year, 11, 3, 4) + timedelta(days=1)  # day after Thanksgiving
        for k in range(1, 5):
            put(bf - timedelta(days=k), 1.15, 1.2)
        put(bf, 2.6, 3.0, 0.30)
        put(bf + timedelta(days=1), 1.7, 2.0, 0.25)
        put(bf + timedelta(days=2), 1.5, 1.8, 0.25)
        put(bf + timedelta(days=3), 2.1, 2.2, 0.25)  # Cyber Monday
        for k in range(1, 24):
            put(date(year, 12, k), 1.0 + 0.6 * k / 23, 1.5 + 4.5 * k / 23)
        put(date(year, 12, 24), 0.8, 2.0)
        put(date(year, 12, 25), 0.45, 0.3)
        put(date(year, 12, 26), 1.6, 0.5, 0.25)  # Boxing Day sales
        for k in range(27, 32):
            put(date(year, 12, k), 1.2, 0.4, 0.2)
        put(date(year, 1, 1), 0.6, 0.2)
        for k in range(2, 11):
            put(date(year, 1, k), 1.15, 0.4, 0.15)
        for k in range(6, 14):
            put(date(year, 2, k), 1.06, 2.2 + 0.2 * (k - 6))  # Valentine's
        md = _nth_weekday(year, 5, 6, 2)  # Mother's Day (DE/US style)
        for k in range(1, 8):
            put(md - timedelta(days=k), 1.05, 2.0)
    return hol, gift, promo


def build_calendar(seed: int, days: int, end_date: date) -> Calendar:
    """Daily demand curves: trend, weekly, yearly, holidays, promotions and small shocks."""
    rng = stream(seed, 1)
    day0 = end_date - timedelta(days=days - 1)
    dates = [day0 + timedelta(days=i) for i in range(days)]
    t = np.arange(days, dtype=np.float64)
    dow = np.array([d.weekday() for d in dates])
    doy = np.array([d.timetuple().tm_yday for d in dates])
    hol, gift, promo = _holidays(dates)
    # random promotions: 1-3 day events every 3-6 weeks
    day = int(rng.integers(5, 25))
    while day < days:
        length = int(rng.integers(1, 4))
        depth = float(rng.choice([0.15, 0.2, 0.25, 0.3]))
        promo[day : day + length] = np.maximum(promo[day : day + length], depth)
        day += length + int(rng.integers(21, 43))
    is_promo = promo > 0
    ang = 2 * np.pi * doy / 365.25
    yearly = 1.0 + 0.10 * np.cos(ang - 2 * np.pi * 350 / 365.25) - 0.05 * np.cos(2 * (ang - 0.2))
    trend = 1.0 + 0.06 * t / 365.0
    shock = np.exp(rng.normal(0.0, 0.06, days))
    weekly = WEEKLY_ORDERS[dow]
    base = trend * weekly * yearly * hol * shock
    regular = base * (1.0 + 0.25 * is_promo)
    gift_curve = trend * weekly * shock * gift
    promo_curve = base * (0.4 + 2.0 * is_promo)
    curves = np.stack([regular, gift_curve, promo_curve])
    curves /= curves.mean(axis=1, keepdims=True)
    order_cum = np.concatenate([np.zeros((3, 1)), np.cumsum(curves, axis=1)], axis=1)
    browse = trend * WEEKLY_BROWSE[dow] * (1 + 0.5 * (yearly - 1)) * (1 + 0.4 * is_promo)
    browse *= np.sqrt(hol) * shock
    browse /= browse.mean()
    browse_cum = np.concatenate([[0.0], np.cumsum(browse)])
    signup = (1.0 + 0.8 * t / days) * base * (1.0 + 0.5 * is_promo)
    signup_cum = np.cumsum(signup / signup.sum())
    signup_cum[-1] = 1.0
    season = np.ones((days, len(CATEGORIES)))
    for c, peaks in enumerate(CAT_PEAKS):
        for center, width, amp in peaks:
            dist = np.abs(doy - center)
            dist = np.minimum(dist, 365 - dist)
            season[:, c] += amp * np.exp(-0.5 * (dist / width) ** 2)
    regular_campaigns = np.arange(int(rng.integers(0, 7)), days, 56)
    promo_starts = np.flatnonzero(is_promo & ~np.r_[False, is_promo[:-1]])
    campaign_day = np.unique(np.concatenate([regular_campaigns, promo_starts]))
    epoch0 = int(datetime(day0.year, day0.month, day0.day, tzinfo=UTC).timestamp())
    return Calendar(
        days=days,
        epoch0=epoch0,
        end_ts=epoch0 + days * DAY - 1,
        dow=dow,
        doy=doy,
        promo_depth=promo,
        order_cum=order_cum,
        browse_cum=browse_cum,
        signup_cum=signup_cum,
        cat_season=season,
        campaign_day=campaign_day.astype(np.int64),
        campaign_promo=is_promo[campaign_day],
    )
