"""The customers: latent per-customer parameters (type, life, churn, win-back, preferences)
and how engagement and purchase intensity fade before churn."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from segmint.sample.calendar import DAY, Calendar, day_ts
from segmint.sample.draws import cum_rows, pick, stream
from segmint.sample.params import (
    ACQ_PREF,
    AGE_SHIFT,
    BASKET,
    CART_P,
    CATEGORY_PREF,
    CHANNEL_PREF,
    CLICK_P,
    CONSENT_P,
    COUPON_P,
    ENGAGEMENT_FLOOR_ORDERS,
    ENGAGEMENT_FLOOR_SESSIONS,
    FIRST_ORDER_P,
    HOURS_ONLINE,
    LIFE_DAYS,
    MIX,
    OPEN_P,
    ORDER_RATE,
    POST_CHURN_ORDERS,
    PREMIUM,
    PRODUCT_VIEWS,
    PROMO_USE,
    QTY,
    RETURN_P,
    SESSION_RATE,
    TYPE_SHARE_EXISTING,
    TYPE_SHARE_NEW,
    TYPES,
    UNSUB_P,
    WINBACK_GAP,
    WINBACK_P,
)
from segmint.sample.reference import (
    CATEGORIES,
    COUNTRY_CURRENCY,
    COUNTRY_REGION,
    COUNTRY_WEIGHT,
    ORDER_CHANNELS,
)


@dataclass
class Population:
    """Latent per-customer parameters (one entry per customer)."""

    number: np.ndarray  # 1-based customer number (id suffix)
    ctype: np.ndarray
    existing: np.ndarray
    signup_ts: np.ndarray
    start_day: np.ndarray  # activity start in window days (float)
    alive_from: np.ndarray  # first full day of activity
    death: np.ndarray  # churn time in window days (may lie beyond the window)
    back: np.ndarray  # win-back: day the customer returns (inf: never)
    death2: np.ndarray  # end of the second life (inf when there is none)
    warmup: np.ndarray  # days of rising engagement before the return
    ramp: np.ndarray  # days over which purchase intensity fades before churn
    ramp_eng: np.ndarray  # longer: sessions and email opens fade first
    lam: np.ndarray
    premium: np.ndarray  # odds of picking from a category's premium tier
    mix: np.ndarray
    sess: np.ndarray
    basket: np.ndarray
    qty: np.ndarray
    cat_cum: np.ndarray
    chan_cum: np.ndarray
    app_share: np.ndarray
    p_mobile: np.ndarray
    p_ios: np.ndarray
    pviews: np.ndarray
    cart_p: np.ndarray
    open_p: np.ndarray
    click_p: np.ndarray
    unsub_p: np.ndarray
    consent_from: np.ndarray  # window days (float); inf when never consented
    consent_to: np.ndarray
    promo_use: np.ndarray
    coupon_p: np.ndarray
    return_p: np.ndarray
    first_order: np.ndarray
    anon_id: np.ndarray
    anon_sessions: np.ndarray
    region: np.ndarray
    currency: np.ndarray

    def subset(self, sl: slice) -> Population:
        """The customers of one block."""
        return Population(**{f.name: getattr(self, f.name)[sl] for f in fields(self)})


@dataclass(frozen=True)
class Profiles:
    """Who the customers are (the customers table's facts) and who changes later (SCD2)."""

    country: np.ndarray
    birth_days: np.ndarray
    gender: np.ndarray
    acquisition: np.ndarray
    consent: np.ndarray
    updated_ts: np.ndarray
    updated: np.ndarray  # indexes of customers with a later update row
    update_ts: np.ndarray
    moved: np.ndarray  # of the updated: got a new city
    consent_new: np.ndarray  # consent after the update


@dataclass(frozen=True)
class _Signups:
    existing: np.ndarray
    ctype: np.ndarray
    signup_ts: np.ndarray
    start_day: np.ndarray
    alive_from: np.ndarray


@dataclass(frozen=True)
class _Lives:
    lam: np.ndarray
    sess: np.ndarray
    open_p: np.ndarray
    life: np.ndarray
    death: np.ndarray
    back: np.ndarray
    death2: np.ndarray
    warmup: np.ndarray
    ramp_eng: np.ndarray
    ramp: np.ndarray


def _signups(rng: np.random.Generator, n: int, cal: Calendar) -> _Signups:
    """Existing vs new customers, their type and signup time."""
    days = cal.days
    existing = rng.random(n) < 0.4
    ctype = np.where(
        existing,
        pick(rng.random(n), cum_rows(TYPE_SHARE_EXISTING)),
        pick(rng.random(n), cum_rows(TYPE_SHARE_NEW)),
    )
    sday = np.minimum(np.searchsorted(cal.signup_cum, rng.random(n), side="right"), days - 1)
    ssec = pick(rng.random(n), cum_rows(HOURS_ONLINE)) * 3600 + rng.integers(0, 3600, n)
    ts_new = day_ts(cal, sday) + ssec
    ts_old = cal.epoch0 - rng.integers(DAY, 1100 * DAY, n)
    signup_ts = np.where(existing, ts_old, np.minimum(ts_new, cal.end_ts - 3600))
    start_day = np.where(existing, 0.0, (signup_ts - cal.epoch0) / DAY)
    alive_from = np.where(existing, 0, np.floor(start_day).astype(np.int64) + 1)
    alive_from = np.minimum(alive_from, days)
    return _Signups(existing, ctype, signup_ts, start_day, alive_from)


def _lives(rng: np.random.Generator, n: int, ctype: np.ndarray, start_day: np.ndarray) -> _Lives:
    """Behaviour with overlap between types; churn, and a win-back for some: churned
    customers who return after a dormant gap, for a shorter second life."""
    z = rng.normal(size=(n, 4))
    lam = ORDER_RATE[ctype] * np.exp(0.45 * z[:, 0] - 0.1)
    sess = SESSION_RATE[ctype] * np.exp(0.25 * z[:, 1] + 0.1 * z[:, 0] - 0.04)
    open_p = np.clip(OPEN_P[ctype] * np.exp(0.35 * z[:, 2] + 0.25 * z[:, 1]), 0.01, 0.95)
    life = LIFE_DAYS[ctype] * np.exp(0.35 * z[:, 3] + 0.35 * z[:, 1] + 0.15 * z[:, 0])
    death = start_day + rng.exponential(life)
    returns = rng.random(n) < WINBACK_P[ctype]
    back = np.where(returns, death + 30 + rng.exponential(WINBACK_GAP, n), np.inf)
    death2 = np.where(returns, back + rng.exponential(0.6 * life), np.inf)
    warmup = rng.uniform(60.0, 150.0, n)
    ramp_eng = rng.uniform(60.0, 200.0, n)
    ramp = ramp_eng * rng.uniform(0.15, 0.4, n)
    return _Lives(lam, sess, open_p, life, death, back, death2, warmup, ramp_eng, ramp)


def _preferences(
    rng: np.random.Generator, n: int, ctype: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: calendar mix, category and channel preferences, acquisition channel."""
    mix_c = np.empty((n, 3))
    for t in range(len(TYPES)):
        idx = np.flatnonzero(ctype == t)
        mix_c[idx] = rng.dirichlet(MIX[t] * 20 + 0.2, idx.size)
    cat_c = np.empty((n, len(CATEGORIES)))
    chan_c = np.empty((n, len(ORDER_CHANNELS)))
    acq = np.empty(n, dtype=np.int64)
    for t in range(len(TYPES)):
        idx = np.flatnonzero(ctype == t)
        cat_c[idx] = rng.dirichlet(CATEGORY_PREF[t] * 10 + 0.05, idx.size)
        chan_c[idx] = rng.dirichlet(CHANNEL_PREF[t] * 8 + 0.05, idx.size)
        acq[idx] = pick(rng.random(idx.size), cum_rows(ACQ_PREF[t]))
    return mix_c, cat_c, chan_c, acq


def _demographics(
    rng: np.random.Generator, n: int, ctype: np.ndarray, end_date: date
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Country, birth date, mobile affinity, gender and marketing consent."""
    country = pick(rng.random(n), cum_rows(COUNTRY_WEIGHT))
    age = 18 + 62 * rng.beta(2.2, 3.2, n) + AGE_SHIFT[ctype] + rng.normal(0, 2, n)
    age = np.clip(age, 18.05, 79.9)
    birth_days = (np.datetime64(end_date) - np.round(age * 365.25).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    p_mobile = np.clip(0.35 + (45 - age) * 0.012 + rng.normal(0, 0.1, n), 0.05, 0.95)
    gender = pick(rng.random(n), cum_rows(np.array([0.485, 0.475, 0.013, 0.027])))
    consent = rng.random(n) < CONSENT_P[ctype]
    return country, birth_days, p_mobile, gender, consent


def _changes(
    rng: np.random.Generator,
    n: int,
    cal: Calendar,
    signup: _Signups,
    consent: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Customers that change later (SCD2 material): new city and/or flipped consent.

    Returns the update facts (for Profiles) and the consent window in days (from, to).
    """
    signup_ts, start_day = signup.signup_ts, signup.start_day
    eligible = np.flatnonzero(signup_ts < cal.end_ts - 60 * DAY)
    n_upd = min(eligible.size, max(1 if n >= 10 else 0, int(round(0.03 * n))))
    upd = np.sort(rng.choice(eligible, n_upd, replace=False)) if n_upd else np.array([], int)
    updated_ts = signup_ts + (rng.random(n) * np.minimum(30 * DAY, cal.end_ts - signup_ts))
    updated_ts = updated_ts.astype(np.int64)
    lo = np.maximum(updated_ts[upd], cal.epoch0 + 30 * DAY)
    upd_ts = (lo + rng.random(n_upd) * (cal.end_ts - lo)).astype(np.int64)
    flip = rng.random(n_upd) < 0.5
    move = ~flip | (rng.random(n_upd) < 0.5)
    consent_new = consent.copy()
    consent_new[upd[flip]] = ~consent[upd[flip]]
    upd_day = (upd_ts - cal.epoch0) / DAY
    consent_from = np.where(consent, np.maximum(start_day, 0.0), np.inf)
    consent_to = np.full(n, np.inf)
    granted = upd[flip & ~consent[upd]]
    revoked = upd[flip & consent[upd]]
    consent_from[granted] = upd_day[flip & ~consent[upd]]
    consent_to[revoked] = upd_day[flip & consent[upd]]
    facts = {
        "updated_ts": updated_ts,
        "updated": upd,
        "update_ts": upd_ts,
        "moved": move,
        "consent_new": consent_new,
    }
    return facts, consent_from, consent_to


def build_population(
    seed: int, n: int, cal: Calendar, end_date: date
) -> tuple[Population, Profiles, np.random.Generator]:
    """Latent parameters and profiles of every customer; the stream continues in
    contacts.customers_table (same draws, in the same order, as one function had)."""
    rng = stream(seed, 3)
    signup = _signups(rng, n, cal)
    ctype, existing = signup.ctype, signup.existing
    lives = _lives(rng, n, ctype, signup.start_day)
    mix_c, cat_c, chan_c, acq = _preferences(rng, n, ctype)
    app_share = chan_c[:, 1] / (chan_c[:, 0] + chan_c[:, 1])
    country, birth_days, p_mobile, gender, consent = _demographics(rng, n, ctype, end_date)
    changes, consent_from, consent_to = _changes(rng, n, cal, signup, consent)
    first_order = ~existing & (rng.random(n) < FIRST_ORDER_P[ctype])
    anon_sessions = np.where(~existing & (rng.random(n) < 0.45), 1 + rng.poisson(0.5, n), 0)
    pop = Population(
        number=np.arange(1, n + 1),
        ctype=ctype,
        existing=existing,
        signup_ts=signup.signup_ts,
        start_day=signup.start_day,
        alive_from=signup.alive_from,
        death=lives.death,
        back=lives.back,
        death2=lives.death2,
        warmup=lives.warmup,
        ramp=lives.ramp,
        ramp_eng=lives.ramp_eng,
        lam=lives.lam,
        premium=np.clip(PREMIUM[ctype] * np.exp(0.3 * rng.normal(size=n)), 0.01, 0.95),
        mix=mix_c,
        sess=lives.sess,
        basket=BASKET[ctype] * np.exp(0.4 * rng.normal(size=n)),
        qty=QTY[ctype] * np.exp(0.4 * rng.normal(size=n)),
        cat_cum=cum_rows(cat_c),
        chan_cum=cum_rows(chan_c),
        app_share=app_share,
        p_mobile=p_mobile,
        p_ios=np.clip(0.55 + rng.normal(0, 0.2, n), 0.05, 0.95),
        pviews=PRODUCT_VIEWS[ctype] * np.exp(0.3 * rng.normal(size=n)),
        cart_p=np.clip(CART_P[ctype] * np.exp(0.3 * rng.normal(size=n)), 0.01, 0.6),
        open_p=lives.open_p,
        click_p=np.clip(CLICK_P[ctype] * np.exp(0.3 * rng.normal(size=n)), 0.01, 0.8),
        unsub_p=UNSUB_P[ctype],
        consent_from=consent_from,
        consent_to=consent_to,
        promo_use=np.clip(PROMO_USE[ctype] + rng.normal(0, 0.1, n), 0.0, 1.0),
        coupon_p=COUPON_P[ctype],
        return_p=RETURN_P[ctype],
        first_order=first_order,
        anon_id=rng.integers(10**11, 10**12, n),
        anon_sessions=anon_sessions,
        region=COUNTRY_REGION[country],
        currency=COUNTRY_CURRENCY[country],
    )
    profiles = Profiles(country, birth_days, gender, acq, consent, **changes)
    return pop, profiles, rng


def fade(t: np.ndarray, death: np.ndarray, ramp: np.ndarray, floor: float) -> np.ndarray:
    """1 while engaged, fading (convex) to floor over ramp days before death."""
    return floor + (1.0 - floor) * np.clip((death - t) / ramp, 0.0, 1.0) ** 1.5


def purchase_activity(pop: Population, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Purchase-intensity multiplier at day t: fades before churn, resumes on a win-back."""
    first = fade(t, pop.death[c], pop.ramp[c], ENGAGEMENT_FLOOR_ORDERS)
    second = fade(t, pop.death2[c], pop.ramp[c], ENGAGEMENT_FLOOR_ORDERS)
    return np.where(
        t < pop.death[c],
        first,
        np.where((t >= pop.back[c]) & (t < pop.death2[c]), second, POST_CHURN_ORDERS),
    )


def engagement(pop: Population, c: np.ndarray, t: np.ndarray, post: float) -> np.ndarray:
    """Engagement multiplier (sessions, email opens) at day t; fades earlier than purchases,
    and warms up again in the weeks before a win-back."""
    first = fade(t, pop.death[c], pop.ramp_eng[c], ENGAGEMENT_FLOOR_SESSIONS)
    second = fade(t, pop.death2[c], pop.ramp_eng[c], ENGAGEMENT_FLOOR_SESSIONS)
    warm = np.clip((t - pop.back[c] + pop.warmup[c]) / pop.warmup[c], 0.0, 1.0)
    later = np.where(
        t < pop.back[c], np.maximum(post, warm), np.where(t < pop.death2[c], second, post)
    )
    return np.where(t < pop.death[c], first, later)
