"""Currencies of the sample: who pays in which currency, local prices, and raw.fx_rates.

By default a customer pays in their country's currency (GBP in the UK, EUR elsewhere). With
``currencies`` weights (e.g. {"EUR": 0.7, "GBP": 0.3}) each customer's currency is drawn
from them instead (a shop selling across currencies). Local prices are the EUR catalogue
converted once at the currency's reference rate; the rates to EUR are a business-day series
(no weekend rates, like a central bank's reference rates) drifting around that reference, so
an order converts at the latest rate on or before its date, as the contract says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from segmint.sample.calendar import Calendar
from segmint.sample.draws import stream
from segmint.sample.population import Population
from segmint.sample.reference import (
    BASE_CURRENCY,
    CURRENCIES,
    DAILY_RATE_VOL,
    REFERENCE_RATE,
)

LEAD_DAYS = 10  # rates start this many days before the first order day
RATE_DECIMALS = 6


def check_currencies(currencies: Mapping[str, float] | None) -> dict[str, float] | None:
    """Validated weights by currency (normalised to sum 1); None keeps country currencies."""
    if currencies is None:
        return None
    weights = {str(c).strip().upper(): float(w) for c, w in currencies.items()}
    unknown = sorted(set(weights) - set(CURRENCIES))
    if unknown:
        raise ValueError(f"unknown currencies {unknown}: use some of {', '.join(CURRENCIES)}")
    if not weights or any(not w >= 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("currency weights must be >= 0 and add up to more than 0")
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


def assign_currencies(pop: Population, seed: int, weights: dict[str, float] | None) -> Population:
    """The population with each customer's currency drawn from the weights (own stream)."""
    if weights is None:
        return pop
    codes = list(weights)
    idx = np.array([CURRENCIES.index(c) for c in codes])
    draw = stream(seed, 31).choice(idx.size, size=pop.currency.size, p=list(weights.values()))
    return replace(pop, currency=idx[draw])


def local_price(price_cents: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """EUR catalogue prices (cents) in each line's currency's price list (cents)."""
    return np.round(price_cents / REFERENCE_RATE[currency]).astype(np.int64)


def fx_rates_table(seed: int, cal: Calendar, used: np.ndarray) -> pa.Table:
    """raw.fx_rates: one rate to EUR per business day for every non-EUR currency used."""
    first = datetime.fromtimestamp(cal.epoch0, UTC).date() - timedelta(days=LEAD_DAYS)
    n_days = cal.days + LEAD_DAYS
    days = np.array([first + timedelta(days=int(i)) for i in range(n_days)])
    business = np.array([d.weekday() < 5 for d in days])
    dates, codes, rates = [], [], []
    for c in np.unique(used):
        code = CURRENCIES[int(c)]
        if code == BASE_CURRENCY:
            continue
        walk = np.cumsum(stream(seed, 32, int(c)).standard_normal(n_days) * DAILY_RATE_VOL[c])
        rate = REFERENCE_RATE[c] * np.exp(walk - walk.mean())
        dates.append(days[business])
        codes.append(np.full(int(business.sum()), code))
        rates.append(np.round(rate[business], RATE_DECIMALS))
    if not dates:
        return pa.table(
            {"date": pa.array([], pa.date32()), "currency": pa.array([], pa.string()),
             "rate_to_base": pa.array([], pa.float64())}
        )  # fmt: skip
    return pa.table(
        {
            "date": pa.array(np.concatenate(dates), pa.date32()),
            "currency": pa.array(np.concatenate(codes)),
            "rate_to_base": pa.array(np.concatenate(rates)),
        }
    )
