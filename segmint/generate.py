"""Synthetic sample data: the five raw tables of the contract, with real structure and dirt.

The simulation is driven by latent customer types (bargain hunters, loyal high spenders,
gift buyers, browsers, one-time buyers, regulars) whose per-customer parameters are drawn
from overlapping, noisy distributions. Each customer has an activity life that ends
(churn); engagement (sessions, email opens) and purchase intensity fade over a ramp before
the end, so churn is visible in the data before it happens. Orders follow weekly and yearly
seasonality, holiday peaks, promotions and a mild trend. Everything is vectorised numpy,
processed in blocks of customers and written with pyarrow, so memory stays bounded.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmint.contract import EVENT_TYPES, ORDER_STATUSES, TABLES

DEFAULT_END_DATE = date(2026, 10, 31)
FORMATS = ("csv", "parquet")
BLOCK_CUSTOMERS = (
    10_000  # customers simulated (and files written) per block; fixed => deterministic
)
N_PRODUCTS = 480

Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------- reference data
CATEGORIES = (
    "electronics",
    "fashion",
    "home",
    "garden",
    "beauty",
    "sports",
    "toys",
    "books",
    "grocery",
    "jewelry",
)
# median list price (EUR/GBP) and log-sd per category
CAT_PRICE = np.array([140.0, 45.0, 38.0, 32.0, 19.0, 42.0, 26.0, 14.0, 7.5, 85.0])
CAT_PRICE_SD = np.array([0.7, 0.5, 0.6, 0.5, 0.45, 0.55, 0.5, 0.35, 0.5, 0.7])
# seasonal peaks per category: (day of year, width in days, amplitude)
CAT_PEAKS: tuple[tuple[tuple[int, float, float], ...], ...] = (
    ((340, 25, 0.9), (328, 6, 0.8)),  # electronics: Black Friday, Christmas
    ((90, 30, 0.25), (270, 30, 0.3)),  # fashion: spring and autumn collections
    ((15, 20, 0.35), (300, 40, 0.15)),  # home: January sales, autumn nesting
    ((130, 40, 1.2),),  # garden: spring and early summer
    ((350, 20, 0.5), (42, 8, 0.4)),  # beauty: Christmas, Valentine's
    ((8, 15, 0.6), (180, 45, 0.25)),  # sports: new-year resolutions, summer
    ((345, 22, 1.6),),  # toys: Christmas
    ((350, 18, 0.5), (200, 35, 0.25)),  # books: Christmas, summer holidays
    (),  # grocery: flat
    ((350, 15, 1.0), (43, 6, 1.2)),  # jewelry: Christmas, Valentine's
)
BRANDS = (
    ("Voltra", "Nordwave", "Pixelon", "Kestrel Audio", "Lumetric"),
    ("Maison Ardent", "Urban Thread", "Fjordline", "Casa Verde", "Velvet & Oak"),
    ("Hearthly", "Nook & Co", "Tidy Haus", "Lindenhome", "Copperfield"),
    ("Greenhand", "Rootwell", "Bloomkit", "Terra Patch"),
    ("Lumen Skin", "Petal Lab", "Aura Botanica", "Softdew"),
    ("Stridex Sport", "Peakform", "Aquaglide", "Trailmark"),
    ("Brickwise", "Tiny Tinker", "Puzzlefox", "Moonbeam Toys"),
    ("Inkwell Press", "Paperlantern", "Northstar Books"),
    ("Harvest Lane", "Daily Crumb", "Bean & Leaf", "Olive Grove"),
    ("Aurelle", "Silverfern", "Gemmaker", "Oro Fino"),
)
NOUNS = (
    ("Headphones", "Speaker", "Smartwatch", "Tablet", "Camera", "Charger", "Keyboard"),
    ("Jacket", "Sneakers", "Jeans", "Dress", "Scarf", "Shirt", "Boots"),
    ("Lamp", "Cushion", "Throw", "Vase", "Pan Set", "Towel Set", "Mirror"),
    ("Planter", "Hose", "Seed Kit", "Pruner", "Bird Feeder", "Lantern"),
    ("Serum", "Face Cream", "Lip Balm", "Perfume", "Shampoo", "Body Lotion"),
    ("Yoga Mat", "Running Shoes", "Water Bottle", "Dumbbells", "Backpack"),
    ("Building Set", "Puzzle", "Plush Bear", "Board Game", "Race Car"),
    ("Novel", "Cookbook", "Travel Guide", "Notebook", "Comic"),
    ("Coffee Beans", "Olive Oil", "Tea Tin", "Chocolate", "Pasta"),
    ("Necklace", "Ring", "Bracelet", "Earrings", "Watch"),
)
ADJECTIVES = ("Classic", "Pro", "Eco", "Mini", "Premium", "Essential", "Deluxe", "Urban")
QUERIES = (
    ("wireless headphones", "4k tv", "phone charger"),
    ("winter jacket", "white sneakers", "linen dress"),
    ("bedside lamp", "cushion covers", "frying pan"),
    ("raised bed", "garden hose", "solar lights"),
    ("vitamin c serum", "perfume gift", "hand cream"),
    ("yoga mat", "running shoes", "kettlebell"),
    ("lego", "jigsaw puzzle", "board games"),
    ("bestsellers", "cookbook", "crime novel"),
    ("coffee beans", "olive oil", "dark chocolate"),
    ("gold necklace", "silver ring", "engagement ring"),
)

# country: (weight, region index, currency, phone country code, cities)
COUNTRIES = ("GB", "DE", "FR", "NL", "ES", "IT", "BE", "IE", "AT", "PT")
COUNTRY_WEIGHT = np.array([0.30, 0.20, 0.13, 0.08, 0.08, 0.07, 0.04, 0.04, 0.03, 0.03])
REGIONS = ("uk_ireland", "dach", "france", "benelux", "iberia", "italy")
COUNTRY_REGION = np.array([0, 1, 2, 3, 4, 5, 3, 0, 1, 4])
CURRENCIES = ("GBP", "EUR")
COUNTRY_CURRENCY = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
COUNTRY_CC = ("44", "49", "33", "31", "34", "39", "32", "353", "43", "351")
CITIES = (
    ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Liverpool"),
    ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig"),
    ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille"),
    ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen"),
    ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga"),
    ("Roma", "Milano", "Napoli", "Torino", "Bologna", "Firenze"),
    ("Brussel", "Antwerpen", "Gent", "Liège", "Brugge"),
    ("Dublin", "Cork", "Galway", "Limerick"),
    ("Wien", "Graz", "Linz", "Salzburg"),
    ("Lisboa", "Porto", "Braga", "Coimbra"),
)
FEMALE_NAMES = (
    "Emma", "Olivia", "Sophie", "Mia", "Lena", "Chloe", "Julia", "Laura", "Sara", "Anna",
    "Lucia", "Giulia", "Ines", "Marie", "Hannah", "Nora", "Isla", "Freya", "Clara", "Elena",
)  # fmt: skip
MALE_NAMES = (
    "Liam", "Noah", "Lucas", "Jonas", "Leon", "Hugo", "Mateo", "Luca", "Finn", "Oliver",
    "Jack", "Paul", "Daniel", "Tom", "Marco", "Pablo", "Sean", "Felix", "Ruben", "David",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Murphy", "Kelly", "Muller", "Schmidt", "Weber",
    "Martin", "Bernard", "Dubois", "Jansen", "de Vries", "Garcia", "Lopez", "Rossi", "Russo",
    "Peeters", "Silva", "Santos", "Novak", "Walsh", "Evans", "Fischer", "Moreau", "Bakker",
    "Romano", "Costa", "Wright",
)  # fmt: skip
GENDERS = ("female", "male", "other", "unknown")
ACQ_CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "referral",
    "email",
    "affiliate",
    "direct",
    "store",
)
ORDER_CHANNELS = ("web", "app", "store", "phone")
EVENT_CHANNELS = ("web", "app", "store", "phone", "email")
DEVICES = ("desktop", "mobile", "tablet", "ios", "android", "pos", "call_center")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# ------------------------------------------------------------------------ latent customer types
TYPES = ("bargain_hunter", "loyal_high_spender", "gift_buyer", "browser", "one_time", "regular")
TYPE_SHARE_NEW = np.array([0.25, 0.11, 0.16, 0.18, 0.11, 0.19])
TYPE_SHARE_EXISTING = np.array([0.26, 0.20, 0.14, 0.14, 0.04, 0.22])
ORDER_RATE = np.array([1 / 44, 1 / 22, 1 / 180, 1 / 300, 1 / 600, 1 / 60])  # orders per day
SESSION_RATE = np.array([1 / 12, 1 / 14, 1 / 60, 1 / 8, 1 / 110, 1 / 24])  # browse sessions per day
LIFE_DAYS = np.array([500, 1400, 900, 420, 35, 700])  # mean activity life
BASKET = np.array([0.45, 1.3, 0.4, 0.3, 0.3, 0.7])  # extra lines per order (Poisson mean)
QTY = np.array([0.6, 0.3, 0.1, 0.1, 0.15, 0.2])  # extra units per line (Poisson mean)
PRODUCT_VIEWS = np.array([0.9, 0.75, 0.8, 1.7, 0.65, 0.8])  # product views per browse session
CART_P = np.array([0.20, 0.15, 0.10, 0.06, 0.08, 0.12])
OPEN_P = np.array([0.38, 0.34, 0.16, 0.08, 0.10, 0.24])
CLICK_P = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.18])
UNSUB_P = np.array([0.002, 0.001, 0.004, 0.006, 0.008, 0.002])
CONSENT_P = np.array([0.80, 0.76, 0.64, 0.58, 0.62, 0.72])
PROMO_USE = np.array([0.90, 0.30, 0.35, 0.50, 0.45, 0.45])
COUPON_P = np.array([0.25, 0.04, 0.05, 0.10, 0.15, 0.07])
RETURN_P = np.array([0.07, 0.04, 0.05, 0.06, 0.06, 0.04])
FIRST_ORDER_P = np.array([0.45, 0.55, 0.45, 0.15, 0.95, 0.50])
PREMIUM = np.array([0.08, 0.65, 0.35, 0.25, 0.2, 0.25])
WINBACK_P = np.array([0.75, 0.75, 0.75, 0.45, 0.30, 0.70])
WINBACK_GAP = 130.0  # mean dormant days before a win-back (plus 30)
AGE_SHIFT = np.array([-4.0, 4.0, 6.0, -6.0, 0.0, 2.0])
# order-intensity mixture over (regular, gift-season, promo-driven) calendars
MIX = np.array(
    [
        [0.60, 0.05, 0.35],
        [0.88, 0.07, 0.05],
        [0.20, 0.75, 0.05],
        [0.65, 0.10, 0.25],
        [0.65, 0.15, 0.20],
        [0.80, 0.10, 0.10],
    ]
)
CHANNEL_PREF = np.array(  # web, app, store, phone
    [
        [0.35, 0.55, 0.08, 0.02],
        [0.40, 0.25, 0.30, 0.05],
        [0.62, 0.10, 0.22, 0.06],
        [0.50, 0.45, 0.04, 0.01],
        [0.60, 0.25, 0.12, 0.03],
        [0.45, 0.30, 0.20, 0.05],
    ]
)
CATEGORY_PREF = np.array(
    [
        [0.05, 0.22, 0.14, 0.06, 0.16, 0.06, 0.06, 0.04, 0.19, 0.02],
        [0.24, 0.20, 0.12, 0.08, 0.07, 0.10, 0.03, 0.06, 0.03, 0.07],
        [0.10, 0.08, 0.06, 0.02, 0.12, 0.04, 0.28, 0.14, 0.02, 0.14],
        [0.20, 0.20, 0.12, 0.06, 0.08, 0.10, 0.06, 0.08, 0.06, 0.04],
        [0.12, 0.16, 0.12, 0.08, 0.10, 0.10, 0.10, 0.08, 0.08, 0.06],
        [0.10, 0.14, 0.14, 0.10, 0.10, 0.10, 0.06, 0.08, 0.14, 0.04],
    ]
)
ACQ_PREF = np.array(
    [
        [0.15, 0.15, 0.22, 0.08, 0.08, 0.22, 0.06, 0.04],
        [0.18, 0.10, 0.06, 0.14, 0.10, 0.02, 0.25, 0.15],
        [0.25, 0.22, 0.12, 0.10, 0.05, 0.06, 0.12, 0.08],
        [0.22, 0.12, 0.30, 0.08, 0.04, 0.06, 0.16, 0.02],
        [0.18, 0.28, 0.18, 0.06, 0.02, 0.16, 0.06, 0.06],
        [0.22, 0.14, 0.10, 0.12, 0.08, 0.06, 0.18, 0.10],
    ]
)
# hour-of-day profiles (relative weights) for web/app, store and phone activity
HOURS_ONLINE = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 4.0, 4.2,
     4.5, 4.2, 4.0, 4.0, 4.2, 4.8, 5.5, 6.5, 7.0, 6.5, 4.5, 2.5]
)  # fmt: skip
HOURS_STORE = np.array([0.0] * 9 + [3, 4, 5, 6, 6, 5, 5, 6, 7, 7, 5] + [0.0] * 4)
HOURS_PHONE = np.array([0.0] * 9 + [1.0] * 9 + [0.0] * 6)
WEEKLY_ORDERS = np.array([0.96, 0.93, 0.95, 0.98, 1.04, 1.10, 1.20])  # Mon..Sun
WEEKLY_BROWSE = np.array([1.0, 0.97, 0.98, 1.0, 0.98, 1.05, 1.12])

ENGAGEMENT_FLOOR_ORDERS = 0.2
ENGAGEMENT_FLOOR_SESSIONS = 0.05
POST_CHURN_ORDERS = 0.02
POST_CHURN_SESSIONS = 0.02
RESEARCH_P = 0.3  # share of orders preceded by a browsing visit in the prior week
BOUNCE_P = 0.45  # browse sessions that are a single page view

# event property vocabulary (JSON strings); campaign entries are appended per calendar
_PAGES = ['{"page": "/"}', '{"page": "/sale"}', '{"page": "/new-in"}'] + [
    f'{{"page": "/c/{c}"}}' for c in CATEGORIES
]
_SEARCH = [f'{{"query": "{q}"}}' for qs in QUERIES for q in qs]
_PVIEW = ['{"source": "listing"}', '{"source": "search"}', '{"source": "recommendation"}']
_CART = ['{"quantity": 1}', '{"quantity": 2}', '{"quantity": 3}']
_CHECKOUT = ['{"step": "payment"}']
_APP = ['{"app_version": "5.1.0"}', '{"app_version": "5.2.3"}', '{"app_version": "6.0.1"}']
_METHODS = ['{"method": "password"}', '{"method": "google"}', '{"method": "apple"}']
_SIGNUP = ['{"method": "email"}', '{"method": "google"}', '{"method": "apple"}']
PROP_VOCAB = _PAGES + _SEARCH + _PVIEW + _CART + _CHECKOUT + _APP + _METHODS + _SIGNUP
P_PAGE = 0
P_SEARCH = P_PAGE + len(_PAGES)
P_PVIEW = P_SEARCH + len(_SEARCH)
P_CART = P_PVIEW + len(_PVIEW)
P_CHECKOUT = P_CART + len(_CART)
P_APP = P_CHECKOUT + len(_CHECKOUT)
P_LOGIN = P_APP + len(_APP)
P_SIGNUP = P_LOGIN + len(_METHODS)
P_CAMPAIGN = P_SIGNUP + len(_SIGNUP)
P_NONE = -1
P_ORDER = -2  # purchase: built per row from the order

ET = {name: i for i, name in enumerate(EVENT_TYPES)}
DAY = 86_400

# dirt kinds per table (CSV gets all; Parquet only the type-valid ones)
MALFORMED_DATES = ("31/02/2026 25:00", "2026-13-45 10:00:00", "yesterday", "2026/02/30 12:00")
MALFORMED_AMOUNTS = ("12,50€", "N/A", "1.234,56", "€9.99")
DIRT_KINDS: dict[str, tuple[str, ...]] = {
    "customers": ("duplicate", "null_required", "malformed_date", "future"),
    "orders": (
        "duplicate",
        "null_required",
        "malformed_date",
        "malformed_amount",
        "unknown_enum",
        "future",
    ),
    "order_items": ("duplicate", "unknown_product", "null_required", "malformed_amount"),
    "events": ("duplicate", "late", "null_required", "malformed_date", "unknown_enum", "future"),
}
TYPE_VALID_DIRT = {
    "duplicate",
    "late",
    "null_required",
    "unknown_enum",
    "unknown_product",
    "future",
}


# --------------------------------------------------------------------------- small helpers
def _rng(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for (seed, key), stable across runs and block layouts."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _cum_rows(p: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities (last column exactly 1)."""
    c = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    c[..., -1] = 1.0
    return c


def _pick(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Categorical draw per row: u uniform, cum a (n, k) or (k,) cumulative table."""
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0..n-1 within each group of the given sizes, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _fade(t: np.ndarray, death: np.ndarray, ramp: np.ndarray, floor: float) -> np.ndarray:
    """1 while engaged, fading (convex) to floor over ramp days before death."""
    return floor + (1.0 - floor) * np.clip((death - t) / ramp, 0.0, 1.0) ** 1.5


def _purchase_activity(pop: _Population, c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Purchase-intensity multiplier at day t: fades before churn, resumes on a win-back."""
    first = _fade(t, pop.death[c], pop.ramp[c], ENGAGEMENT_FLOOR_ORDERS)
    second = _fade(t, pop.death2[c], pop.ramp[c], ENGAGEMENT_FLOOR_ORDERS)
    return np.where(
        t < pop.death[c],
        first,
        np.where((t >= pop.back[c]) & (t < pop.death2[c]), second, POST_CHURN_ORDERS),
    )


def _engagement(pop: _Population, c: np.ndarray, t: np.ndarray, post: float) -> np.ndarray:
    """Engagement multiplier (sessions, email opens) at day t; fades earlier than purchases,
    and warms up again in the weeks before a win-back."""
    first = _fade(t, pop.death[c], pop.ramp_eng[c], ENGAGEMENT_FLOOR_SESSIONS)
    second = _fade(t, pop.death2[c], pop.ramp_eng[c], ENGAGEMENT_FLOOR_SESSIONS)
    warm = np.clip((t - pop.back[c] + pop.warmup[c]) / pop.warmup[c], 0.0, 1.0)
    later = np.where(
        t < pop.back[c], np.maximum(post, warm), np.where(t < pop.death2[c], second, post)
    )
    return np.where(t < pop.death[c], first, later)


def _str(values: np.ndarray) -> pa.Array:
    """Integers rendered as strings (vectorised)."""
    return pc.cast(pa.array(values), pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded identifiers like C0000042."""
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(_str(numbers), width, "0"), "")


def _join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def _take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    """vocab[idx] with null where idx < 0."""
    return vocab.take(pa.array(idx, mask=idx < 0))


def _day_ts(cal: _Calendar, day: np.ndarray) -> np.ndarray:
    """Unix seconds of the midnight starting a window day."""
    return cal.epoch0 + day.astype(np.int64) * DAY


# --------------------------------------------------------------------------- calendar
@dataclass(frozen=True)
class _Calendar:
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


def _calendar(seed: int, days: int, end_date: date) -> _Calendar:
    """Daily demand curves: trend, weekly, yearly, holidays, promotions and small shocks."""
    rng = _rng(seed, 1)
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
    return _Calendar(
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


# --------------------------------------------------------------------------- products
@dataclass(frozen=True)
class _Products:
    category: np.ndarray  # category index per product (products sorted by category)
    price: np.ndarray  # cents
    cost: np.ndarray  # cents
    pick_key: np.ndarray  # category + cumulative within-category popularity
    brand: list[str]
    name: list[str]


def _products(seed: int) -> _Products:
    """A fixed catalogue: categories, brands, names, prices and costs (cost < price)."""
    rng = _rng(seed, 2)
    weights = np.array([0.14, 0.16, 0.12, 0.07, 0.10, 0.09, 0.09, 0.08, 0.09, 0.06])
    per_cat = np.maximum(np.round(weights * N_PRODUCTS).astype(int), 10)
    category = np.repeat(np.arange(len(CATEGORIES)), per_cat)
    n = category.size
    raw = CAT_PRICE[category] * np.exp(rng.normal(0, CAT_PRICE_SD[category]))
    price = np.maximum(np.round(raw) * 100 - 1, 199).astype(np.int64)  # x.99 price points
    # premium tier: the dearest ~35% of each category; catalogue ordered by (category, tier)
    rank = np.empty(n)
    for c in range(len(CATEGORIES)):
        idx = np.flatnonzero(category == c)
        rank[idx] = np.argsort(np.argsort(price[idx])) / idx.size
    tier = (rank >= 0.65).astype(np.int64)
    order = np.lexsort((rng.random(n), tier, category))
    price, tier = price[order], tier[order]
    cost = np.round(price * rng.uniform(0.35, 0.75, n)).astype(np.int64)
    popularity = rng.pareto(1.2, n) + 0.05
    slot = 2 * category + tier
    key = np.empty(n)
    for k in range(2 * len(CATEGORIES)):
        idx = np.flatnonzero(slot == k)
        cum = np.cumsum(popularity[idx]) / popularity[idx].sum()
        cum[-1] = 1.0
        key[idx] = k + cum
    brand_i = rng.integers(0, 1000, n)
    noun_i = rng.integers(0, 1000, n)
    adj_i = rng.integers(0, len(ADJECTIVES), n)
    brand = [BRANDS[c][b % len(BRANDS[c])] for c, b in zip(category, brand_i, strict=True)]
    name = [
        f"{br} {ADJECTIVES[a]} {NOUNS[c][k % len(NOUNS[c])]}"
        for br, a, c, k in zip(brand, adj_i, category, noun_i, strict=True)
    ]
    return _Products(category, price, cost, key, brand, name)


def _pick_products(
    rng: np.random.Generator, prods: _Products, cat: np.ndarray, premium: np.ndarray
) -> np.ndarray:
    """A product of the given category per row, premium tier with the given odds, by popularity."""
    tier = rng.random(cat.size) < premium
    u = 2 * cat + tier + rng.random(cat.size) * (1 - 1e-12)
    return np.minimum(np.searchsorted(prods.pick_key, u, side="right"), prods.price.size - 1)


def _products_table(prods: _Products) -> pa.Table:
    """The products table in contract column order."""
    n = prods.price.size
    return pa.table(
        {
            "product_id": _ids("P", np.arange(1, n + 1), 5),
            "name": pa.array(prods.name),
            "category": pa.array(CATEGORIES).take(pa.array(prods.category)),
            "brand": pa.array(prods.brand),
            "unit_price": pa.array(prods.price / 100.0),
            "unit_cost": pa.array(prods.cost / 100.0),
        }
    )


# --------------------------------------------------------------------------- customers
@dataclass
class _Population:
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

    def subset(self, sl: slice) -> _Population:
        """The customers of one block."""
        return _Population(**{f.name: getattr(self, f.name)[sl] for f in fields(self)})


def _population(
    seed: int, n: int, cal: _Calendar, end_date: date
) -> tuple[_Population, pa.Table, pa.Table]:
    """Latent parameters plus the customers table and its later-update rows."""
    rng = _rng(seed, 3)
    days = cal.days
    existing = rng.random(n) < 0.4
    ctype = np.where(
        existing,
        _pick(rng.random(n), _cum_rows(TYPE_SHARE_EXISTING)),
        _pick(rng.random(n), _cum_rows(TYPE_SHARE_NEW)),
    )
    # signup
    sday = np.minimum(np.searchsorted(cal.signup_cum, rng.random(n), side="right"), days - 1)
    ssec = _pick(rng.random(n), _cum_rows(HOURS_ONLINE)) * 3600 + rng.integers(0, 3600, n)
    ts_new = _day_ts(cal, sday) + ssec
    ts_old = cal.epoch0 - rng.integers(DAY, 1100 * DAY, n)
    signup_ts = np.where(existing, ts_old, np.minimum(ts_new, cal.end_ts - 3600))
    start_day = np.where(existing, 0.0, (signup_ts - cal.epoch0) / DAY)
    alive_from = np.where(existing, 0, np.floor(start_day).astype(np.int64) + 1)
    alive_from = np.minimum(alive_from, days)
    # behaviour, with overlap between types
    z = rng.normal(size=(n, 4))
    lam = ORDER_RATE[ctype] * np.exp(0.45 * z[:, 0] - 0.1)
    sess = SESSION_RATE[ctype] * np.exp(0.25 * z[:, 1] + 0.1 * z[:, 0] - 0.04)
    open_p = np.clip(OPEN_P[ctype] * np.exp(0.35 * z[:, 2] + 0.25 * z[:, 1]), 0.01, 0.95)
    life = LIFE_DAYS[ctype] * np.exp(0.35 * z[:, 3] + 0.35 * z[:, 1] + 0.15 * z[:, 0])
    death = start_day + rng.exponential(life)
    # win-back: some churned customers return after a dormant gap, for a shorter second life
    returns = rng.random(n) < WINBACK_P[ctype]
    back = np.where(returns, death + 30 + rng.exponential(WINBACK_GAP, n), np.inf)
    death2 = np.where(returns, back + rng.exponential(0.6 * life), np.inf)
    warmup = rng.uniform(60.0, 150.0, n)
    ramp_eng = rng.uniform(60.0, 200.0, n)
    ramp = ramp_eng * rng.uniform(0.15, 0.4, n)
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
        acq[idx] = _pick(rng.random(idx.size), _cum_rows(ACQ_PREF[t]))
    app_share = chan_c[:, 1] / (chan_c[:, 0] + chan_c[:, 1])
    # demographics
    country = _pick(rng.random(n), _cum_rows(COUNTRY_WEIGHT))
    age = 18 + 62 * rng.beta(2.2, 3.2, n) + AGE_SHIFT[ctype] + rng.normal(0, 2, n)
    age = np.clip(age, 18.05, 79.9)
    birth_days = (np.datetime64(end_date) - np.round(age * 365.25).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    p_mobile = np.clip(0.35 + (45 - age) * 0.012 + rng.normal(0, 0.1, n), 0.05, 0.95)
    gender = _pick(rng.random(n), _cum_rows(np.array([0.485, 0.475, 0.013, 0.027])))
    consent = rng.random(n) < CONSENT_P[ctype]
    # customers that change later (SCD2 material): new city and/or flipped consent
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
    first_order = ~existing & (rng.random(n) < FIRST_ORDER_P[ctype])
    anon_sessions = np.where(~existing & (rng.random(n) < 0.45), 1 + rng.poisson(0.5, n), 0)
    pop = _Population(
        number=np.arange(1, n + 1),
        ctype=ctype,
        existing=existing,
        signup_ts=signup_ts,
        start_day=start_day,
        alive_from=alive_from,
        death=death,
        back=back,
        death2=death2,
        warmup=warmup,
        ramp=ramp,
        ramp_eng=ramp_eng,
        lam=lam,
        premium=np.clip(PREMIUM[ctype] * np.exp(0.3 * rng.normal(size=n)), 0.01, 0.95),
        mix=mix_c,
        sess=sess,
        basket=BASKET[ctype] * np.exp(0.4 * rng.normal(size=n)),
        qty=QTY[ctype] * np.exp(0.4 * rng.normal(size=n)),
        cat_cum=_cum_rows(cat_c),
        chan_cum=_cum_rows(chan_c),
        app_share=app_share,
        p_mobile=p_mobile,
        p_ios=np.clip(0.55 + rng.normal(0, 0.2, n), 0.05, 0.95),
        pviews=PRODUCT_VIEWS[ctype] * np.exp(0.3 * rng.normal(size=n)),
        cart_p=np.clip(CART_P[ctype] * np.exp(0.3 * rng.normal(size=n)), 0.01, 0.6),
        open_p=open_p,
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
    # ---- the customers table
    city_idx = np.empty(n, dtype=np.int64)
    for c, cities in enumerate(CITIES):
        idx = np.flatnonzero(country == c)
        w = 1.0 / np.arange(1, len(cities) + 1) ** 1.1
        city_idx[idx] = _pick(rng.random(idx.size), _cum_rows(w))
    new_city = city_idx.copy()
    for i, u in zip(upd[move], rng.random(int(move.sum())), strict=True):
        k = len(CITIES[country[i]])
        new_city[i] = (city_idx[i] + 1 + int(u * (k - 1))) % k
    female = np.where(gender == 1, False, np.where(gender == 0, True, rng.random(n) < 0.5))
    first_i = rng.integers(0, len(FEMALE_NAMES), n)
    first = pa.array(
        np.where(female, np.array(FEMALE_NAMES)[first_i], np.array(MALE_NAMES)[first_i])
    )
    last = pa.array(LAST_NAMES).take(pa.array(rng.integers(0, len(LAST_NAMES), n)))
    local_last = pc.replace_substring(pc.utf8_lower(last), " ", "")
    style = rng.random(n)
    local = pc.if_else(
        pa.array(style < 0.6),
        _join(pc.utf8_lower(first), ".", local_last),
        _join(pc.utf8_lower(pc.utf8_slice_codeunits(first, 0, 1)), local_last),
    )
    email = _join(
        local,
        _str(rng.integers(1, 999, n)),
        "@",
        pa.array(EMAIL_DOMAINS).take(pa.array(_pick(rng.random(n), _cum_rows(np.ones(3))))),
    )
    email = pc.if_else(pa.array(rng.random(n) < 0.03), pa.nulls(n, pa.string()), email)
    phone = _phones(rng, country)
    postal = _postal_codes(rng, country)
    country_a = pa.array(COUNTRIES).take(pa.array(country))

    def city_of(ci: np.ndarray) -> pa.Array:
        flat = [c for cs in CITIES for c in cs]
        offs = np.cumsum([0] + [len(cs) for cs in CITIES])[:-1]
        return pa.array(flat).take(pa.array(offs[country] + ci))

    gender_a = pa.array(GENDERS).take(pa.array(gender))
    gender_a = pc.if_else(pa.array(rng.random(n) < 0.01), pa.nulls(n, pa.string()), gender_a)
    cols = {
        "customer_id": _ids("C", pop.number, 7),
        "email": email,
        "phone": phone,
        "first_name": first,
        "last_name": last,
        "birth_date": pa.array(birth_days, type=pa.date32()),
        "gender": gender_a,
        "country": country_a,
        "city": city_of(city_idx),
        "postal_code": postal,
        "signup_at": pa.array(signup_ts, type=pa.timestamp("s")),
        "acquisition_channel": pa.array(ACQ_CHANNELS).take(pa.array(acq)),
        "marketing_consent": pa.array(consent),
        "updated_at": pa.array(updated_ts, type=pa.timestamp("s")),
    }
    table = pa.table(cols)
    upd_idx = pa.array(upd)
    updates = table.take(upd_idx)
    updates = updates.set_column(
        updates.schema.get_field_index("city"), "city", city_of(new_city).take(upd_idx)
    )
    updates = updates.set_column(
        updates.schema.get_field_index("marketing_consent"),
        "marketing_consent",
        pa.array(consent_new[upd]),
    )
    updates = updates.set_column(
        updates.schema.get_field_index("updated_at"),
        "updated_at",
        pa.array(upd_ts, type=pa.timestamp("s")),
    )
    return pop, table, updates


def _digits(rng: np.random.Generator, n: int, lo: int, hi: int, width: int) -> pa.Array:
    """Random zero-padded digit strings in [lo, hi)."""
    return pc.utf8_lpad(_str(rng.integers(lo, hi, n)), width, "0")


def _letters(rng: np.random.Generator, n: int, k: int) -> pa.Array:
    """Random upper-case letter strings of length k."""
    alphabet = pa.array(list("ABCDEFGHJKLMNPRSTUVWXY"))
    parts = [alphabet.take(pa.array(rng.integers(0, 22, n))) for _ in range(k)]
    return _join(*parts) if k > 1 else parts[0]


def _select(country: np.ndarray, per_country: dict[int, pa.Array], default: pa.Array) -> pa.Array:
    """Pick, per row, the value built for that row's country."""
    out = default
    for c, values in per_country.items():
        out = pc.if_else(pa.array(country == c), values, out)
    return out


def _postal_codes(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Plausible postal codes in each country's format."""
    n = country.size
    five = _digits(rng, n, 1000, 96000, 5)
    four = _digits(rng, n, 1000, 10000, 4)
    return _select(
        country,
        {
            0: _join(
                _letters(rng, n, 2),
                _str(rng.integers(1, 20, n)),
                " ",
                _str(rng.integers(1, 10, n)),
                _letters(rng, n, 2),
            ),  # noqa: E501
            3: _join(four, " ", _letters(rng, n, 2)),
            6: four,
            7: _join(
                _letters(rng, n, 1),
                _digits(rng, n, 1, 25, 2),
                " ",
                _letters(rng, n, 1),
                _digits(rng, n, 100, 1000, 3),
            ),  # noqa: E501
            8: four,
            9: _join(four, "-", _digits(rng, n, 100, 1000, 3)),
        },
        five,
    )


def _phones(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Clearly fictional phone numbers (Ofcom drama ranges, 555), E.164-ish or national."""
    n = country.size
    tail = _digits(rng, n, 0, 1000, 3)
    style = rng.integers(0, 4, n)
    uk = _select(
        style,
        {
            0: _join("+44 20 7946 0", tail),
            1: _join("020 7946 0", tail),
            2: _join("+44 7700 900", tail),
        },
        _join("07700 900", tail),
    )
    cc = pa.array(COUNTRY_CC).take(pa.array(country))
    mid = _digits(rng, n, 100, 200, 3)
    intl = pc.if_else(
        pa.array(style < 2),
        _join("+", cc, " 555 ", mid, " ", tail),
        _join("0555 ", mid, " ", tail),
    )
    phone = pc.if_else(pa.array((country == 0) | (country == 7)), uk, intl)
    return pc.if_else(pa.array(rng.random(n) < 0.1), pa.nulls(n, pa.string()), phone)


# --------------------------------------------------------------------------- orders
@dataclass
class _Orders:
    cust: np.ndarray  # block-local customer index
    ts: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    status: np.ndarray
    gross: np.ndarray  # cents
    discount: np.ndarray  # cents
    n_lines: np.ndarray
    # order lines (sorted by order)
    line_order: np.ndarray
    line_product: np.ndarray
    line_qty: np.ndarray
    line_price: np.ndarray
    line_discount: np.ndarray


def _intensity_draws(
    rng: np.random.Generator, cum: np.ndarray, rate: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inhomogeneous Poisson draws on days [lo, hi) per customer: (customer, day) arrays."""
    mu = rate * (cum[hi] - cum[lo])
    cnt = rng.poisson(np.maximum(mu, 0.0))
    cust = np.repeat(np.arange(rate.size), cnt)
    a, b = cum[lo][cust], cum[hi][cust]
    day = np.searchsorted(cum, a + rng.random(cust.size) * (b - a), side="right") - 1
    return cust, np.clip(day, lo[cust], np.maximum(hi[cust] - 1, lo[cust]))


def _orders(
    rng: np.random.Generator, cal: _Calendar, pop: _Population, prods: _Products
) -> _Orders:
    """Orders and their lines for one block of customers."""
    days = cal.days
    lo = pop.alive_from
    hi = np.full_like(lo, days)
    custs, dayl = [], []
    for k in range(3):
        c, d = _intensity_draws(rng, cal.order_cum[k], pop.lam * pop.mix[:, k], lo, hi)
        keep = rng.random(c.size) < _purchase_activity(pop, c, d + 0.5)
        custs.append(c[keep])
        dayl.append(d[keep])
    cust = np.concatenate(custs)
    day = np.concatenate(dayl)
    channel = _pick(rng.random(cust.size), pop.chan_cum[cust])
    hours = np.stack(
        [_cum_rows(HOURS_ONLINE)] * 2 + [_cum_rows(HOURS_STORE), _cum_rows(HOURS_PHONE)]
    )
    hour = _pick(rng.random(cust.size), hours[channel])
    ts = _day_ts(cal, day) + hour * 3600 + rng.integers(0, 3600, cust.size)
    # first orders placed right at signup
    f = np.flatnonzero(pop.first_order)
    f_ts = pop.signup_ts[f] + rng.integers(120, 3600, f.size)
    f_ch = np.minimum(_pick(rng.random(f.size), pop.chan_cum[f]), 1)
    # a win-back starts with a comeback purchase
    w = np.flatnonzero(pop.back < days)
    w_ts = cal.epoch0 + (pop.back[w] * DAY).astype(np.int64)
    w_ch = _pick(rng.random(w.size), pop.chan_cum[w])
    cust = np.concatenate([cust, f, w])
    ts = np.concatenate([ts, f_ts, w_ts])
    channel = np.concatenate([channel, f_ch, w_ch])
    ok = (ts >= cal.epoch0) & (ts <= cal.end_ts - 600)
    cust, ts, channel = cust[ok], ts[ok], channel[ok]
    order = np.lexsort((cust, ts))
    cust, ts, channel = cust[order], ts[order], channel[order]
    day = (ts - cal.epoch0) // DAY
    n = cust.size
    u = rng.random(n)
    status = np.where(u < 0.05, 1, np.where(u < 0.05 + pop.return_p[cust], 2, 0))
    # lines: a seasonal main category, the rest mostly from the same category
    probs = np.cumsum(np.diff(pop.cat_cum[cust], prepend=0.0, axis=1) * cal.cat_season[day], axis=1)
    main_cat = _pick(rng.random(n) * probs[:, -1], probs)
    n_lines = 1 + np.minimum(rng.poisson(pop.basket[cust]), 7)
    lo_ = np.repeat(np.arange(n), n_lines)
    first_line = _ragged_arange(n_lines) == 0
    same = first_line | (rng.random(lo_.size) < 0.55)
    other = _pick(rng.random(lo_.size), pop.cat_cum[cust[lo_]])
    cat = np.where(same, main_cat[lo_], other)
    prod = _pick_products(rng, prods, cat, pop.premium[cust[lo_]])
    _, keep = np.unique(lo_ * prods.price.size + prod, return_index=True)
    lo_, prod = lo_[keep], prod[keep]
    n_lines = np.bincount(lo_, minlength=n)
    qty = 1 + np.minimum(rng.poisson(pop.qty[cust[lo_]]), 5)
    price = prods.price[prod]
    depth = cal.promo_depth[day]
    u1, u2 = rng.random(n), rng.random(n)
    rate = np.where(
        (depth > 0) & (u1 < pop.promo_use[cust]),
        depth,
        np.where(u2 < pop.coupon_p[cust], 0.10, 0.0),
    )
    line_disc = np.round(qty * price * rate[lo_]).astype(np.int64)
    gross = np.bincount(lo_, weights=qty * price, minlength=n).astype(np.int64)
    disc = np.bincount(lo_, weights=line_disc, minlength=n).astype(np.int64)
    return _Orders(
        cust, ts, day, channel, status, gross, disc, n_lines, lo_, prod, qty, price, line_disc
    )  # noqa: E501


# --------------------------------------------------------------------------- events
_EVENT_FIELDS = ("t", "type", "cust", "anon", "sess", "prod", "dev", "chan", "prop", "order")


def _event_part(n: int, **cols: np.ndarray | int) -> dict[str, np.ndarray]:
    """A batch of events; unspecified columns are -1 (null)."""
    out = {}
    for f in _EVENT_FIELDS:
        v = cols.get(f, -1)
        out[f] = np.full(n, v, dtype=np.int64) if np.isscalar(v) else np.asarray(v, np.int64)
    return out


def _concat_parts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate event batches column by column."""
    return {f: np.concatenate([p[f] for p in parts]) for f in _EVENT_FIELDS}


def _session_devices(rng: np.random.Generator, pop: _Population, cust: np.ndarray, app: np.ndarray):
    """Device code per session: ios/android for app, desktop/mobile/tablet for web."""
    u = rng.random(cust.size)
    web = np.where(u < pop.p_mobile[cust], 1, np.where(u < pop.p_mobile[cust] + 0.08, 2, 0))
    mobile_os = np.where(rng.random(cust.size) < pop.p_ios[cust], 3, 4)
    return np.where(app, mobile_os, web)


def _expand_sessions(
    rng: np.random.Generator,
    anchor: np.ndarray,
    anchor_end: np.ndarray,
    blocks: list[tuple[np.ndarray, int, int, np.ndarray | int, np.ndarray | int, np.ndarray | int]],
) -> dict[str, np.ndarray]:
    """Lay out session events in funnel order with realistic gaps.

    blocks: (session index per event, event type, funnel rank, product, property, order).
    Sessions anchored at the end (purchases) finish exactly at their anchor time.
    """
    sess = np.concatenate([b[0] for b in blocks])
    rank = np.concatenate([np.full(b[0].size, b[2]) for b in blocks])

    def col(i: int) -> np.ndarray:
        return np.concatenate(
            [np.full(b[0].size, b[i]) if np.isscalar(b[i]) else b[i] for b in blocks]
        ).astype(np.int64)

    typ = np.concatenate([np.full(b[0].size, b[1]) for b in blocks])
    prod, prop, order = col(3), col(4), col(5)
    o = np.lexsort((rank, sess))
    sess, typ, prod, prop, order = sess[o], typ[o], prod[o], prop[o], order[o]
    gaps = (rng.exponential(35.0, sess.size) + 4).astype(np.int64)
    cs = np.cumsum(gaps)
    starts = np.flatnonzero(np.r_[True, sess[1:] != sess[:-1]])
    counts = np.diff(np.r_[starts, sess.size])
    off = cs - np.repeat(cs[starts], counts)
    last = np.repeat(off[starts + counts - 1], counts)
    t = np.where(anchor_end[sess], anchor[sess] - (last - off), anchor[sess] + off)
    return {"t": t, "type": typ, "sess": sess, "prod": prod, "prop": prop, "order": order}


def _events(
    rng: np.random.Generator, cal: _Calendar, pop: _Population, prods: _Products, od: _Orders
) -> dict[str, np.ndarray]:
    """All events of one block: sessions, purchases, emails, app opens, anonymous visits."""
    n = pop.number.size
    days = cal.days
    parts: list[dict[str, np.ndarray]] = []

    def rand_products(cust: np.ndarray) -> np.ndarray:
        cat = _pick(rng.random(cust.size), pop.cat_cum[cust])
        return _pick_products(rng, prods, cat, pop.premium[cust])

    def queries(cust: np.ndarray) -> np.ndarray:
        cat = _pick(rng.random(cust.size), pop.cat_cum[cust])
        return P_SEARCH + cat * 3 + rng.integers(0, 3, cust.size)

    # ---- browse sessions: engagement fades (earlier than purchases) before churn
    lo = pop.alive_from
    c1, d1 = _intensity_draws(rng, cal.browse_cum, pop.sess, lo, np.full_like(lo, days))
    keep = rng.random(c1.size) < _engagement(pop, c1, d1 + 0.5, POST_CHURN_SESSIONS)
    c1, d1 = c1[keep], d1[keep]
    b_t = (
        _day_ts(cal, d1)
        + _pick(rng.random(c1.size), _cum_rows(HOURS_ONLINE)) * 3600
        + rng.integers(0, 3600, c1.size)
    )
    # research visits in the days before an order
    r = np.flatnonzero(rng.random(od.cust.size) < RESEARCH_P)
    r_t = od.ts[r] - rng.uniform(0.2, 7.0, r.size) * DAY
    b_cust = np.concatenate([c1, od.cust[r]])
    b_t = np.concatenate([b_t, r_t.astype(np.int64)])
    b_app = rng.random(b_cust.size) < pop.app_share[b_cust]
    # ---- purchase sessions (web/app orders); store/phone orders only log the purchase
    online = np.flatnonzero(od.channel <= 1)
    p_cust = od.cust[online]
    p_t = od.ts[online] + rng.integers(0, 60, online.size)
    p_app = od.channel[online] == 1
    # ---- anonymous visits before signup, and the signup itself
    a_cust = np.repeat(np.arange(n), pop.anon_sessions)
    a_t = pop.signup_ts[a_cust] - rng.uniform(3600, 10 * DAY, a_cust.size).astype(np.int64)
    a_app = np.zeros(a_cust.size, dtype=bool)
    s_cust = np.flatnonzero(~pop.existing & (pop.signup_ts >= cal.epoch0))
    s_t = pop.signup_ts[s_cust]
    s_app = rng.random(s_cust.size) < pop.app_share[s_cust]

    nb, npur, na, ns = b_cust.size, p_cust.size, a_cust.size, s_cust.size
    sess_cust = np.concatenate([b_cust, p_cust, a_cust, s_cust])
    anchor = np.concatenate([b_t, p_t, a_t, s_t])
    anchor_end = np.r_[np.zeros(nb, bool), np.ones(npur, bool), np.zeros(na + ns, bool)]
    app = np.concatenate([b_app, p_app, a_app, s_app])
    kind = np.repeat(np.arange(4), [nb, npur, na, ns])  # browse, purchase, anon, signup
    S = sess_cust.size
    sid = np.arange(S)
    blocks = []

    def add(
        sel: np.ndarray, counts: np.ndarray | None, etype: str, rank: int, prod, prop, order=-1
    ):
        s = np.repeat(sel, counts) if counts is not None else sel
        blocks.append(
            (
                s,
                ET[etype],
                rank,
                prod(s) if callable(prod) else prod,
                prop(s) if callable(prop) else prop,
                order,
            )
        )  # noqa: E501

    is_b, is_p, is_a, is_s = (kind == k for k in range(4))
    # app sessions open the app; some web sessions log in
    app_open = sid[app & ~is_a & (rng.random(S) < 0.4)]  # the rest resume a running app
    add(app_open, None, "app_open", 0, -1, lambda s: P_APP + rng.integers(0, 3, s.size))
    login = sid[is_b & ~app & (rng.random(S) < 0.1)]
    add(login, None, "login", 1, -1, lambda s: P_LOGIN + rng.integers(0, 3, s.size))
    add(sid[is_s], None, "signup", 1, -1, lambda s: P_SIGNUP + rng.integers(0, 3, s.size))
    # browsing funnel
    bounce = is_b & (rng.random(S) < BOUNCE_P)
    bs = sid[(is_b & ~bounce) | is_a | is_p]
    add(sid[bounce], None, "page_view", 2, -1, lambda s: P_PAGE + rng.integers(0, 3, s.size))
    pv_pages = np.where(is_p[bs], 1, 1 + rng.poisson(0.2, bs.size))
    add(bs, pv_pages, "page_view", 2, -1, lambda s: P_PAGE + rng.integers(0, len(_PAGES), s.size))
    n_search = (rng.random(bs.size) < np.where(is_p[bs], 0.1, 0.2)) * (
        1 + rng.poisson(0.3, bs.size)
    )  # noqa: E501
    add(bs, n_search, "search", 3, -1, lambda s: queries(sess_cust[s]))
    views = np.where(
        is_p[bs],
        0,
        rng.poisson(pop.pviews[sess_cust[bs]] * np.where(is_a[bs], 0.7, 1.0)),
    )  # noqa: E501
    add(
        bs,
        views,
        "product_view",
        4,
        lambda s: rand_products(sess_cust[s]),
        lambda s: P_PVIEW + rng.integers(0, 3, s.size),
    )  # noqa: E501
    # browse carts (no purchase)
    bb = sid[is_b & ~bounce]
    cart = rng.random(bb.size) < pop.cart_p[sess_cust[bb]]
    add(bb[cart], None, "add_to_cart", 5, lambda s: rand_products(sess_cust[s]), P_CART)
    removed = bb[cart][rng.random(int(cart.sum())) < 0.35]
    add(removed, None, "remove_from_cart", 6, lambda s: rand_products(sess_cust[s]), P_NONE)
    # purchase funnel: view and add each order line, checkout, purchase
    line_sess = nb + np.searchsorted(online, od.line_order)
    line_online = np.isin(od.line_order, online)
    ls = line_sess[line_online]
    lp = od.line_product[line_online]
    lq = np.minimum(od.line_qty[line_online], 3) - 1
    add(ls, None, "product_view", 4, lp, P_PVIEW)
    add(ls, None, "add_to_cart", 5, lp, P_CART + lq)
    ps = sid[is_p]
    add(ps, None, "checkout", 7, -1, P_CHECKOUT)
    add(ps, None, "purchase", 8, -1, P_ORDER, online)
    ev = _expand_sessions(rng, anchor, anchor_end, blocks)
    sess = ev["sess"]
    cust = np.where(kind[sess] == 2, -1, sess_cust[sess])
    anon = np.where((kind[sess] == 2) | (kind[sess] == 3), pop.anon_id[sess_cust[sess]], -1)
    dev = _session_devices(rng, pop, sess_cust, app)[sess]
    chan = np.where(app, 1, 0)[sess]
    parts.append(
        _event_part(sess.size, t=ev["t"], type=ev["type"], cust=cust, anon=anon, sess=sess,
                    prod=ev["prod"], dev=dev, chan=chan, prop=ev["prop"], order=ev["order"])
    )  # fmt: skip
    # ---- store / phone purchases: a single purchase event, no web session
    off = np.flatnonzero(od.channel >= 2)
    parts.append(
        _event_part(off.size, t=od.ts[off] + rng.integers(0, 60, off.size), type=ET["purchase"],
                    cust=od.cust[off], dev=np.where(od.channel[off] == 2, 5, 6),
                    chan=od.channel[off], prop=P_ORDER, order=off)
    )  # fmt: skip
    # ---- email campaigns: sends to consented customers, opens fade with engagement
    camp = cal.campaign_day
    first = np.searchsorted(camp, pop.consent_from, side="left")
    last = np.searchsorted(camp, pop.consent_to, side="left")
    n_send = np.maximum(last - first, 0)
    k = rng.geometric(pop.unsub_p)
    unsub = k <= n_send
    n_send = np.where(unsub, k, n_send)
    e_cust = np.repeat(np.arange(n), n_send)
    ci = _ragged_arange(n_send) + np.repeat(first, n_send)
    send_t = _day_ts(cal, camp[ci]) + 8 * 3600 + rng.integers(0, 7200, ci.size)
    eng = _engagement(pop, e_cust, camp[ci] + 0.5, 0.03)
    p_open = np.clip(pop.open_p[e_cust] * eng * np.where(cal.campaign_promo[ci], 1.25, 1.0), 0, 1)
    opened = rng.random(ci.size) < p_open
    open_t = send_t + rng.exponential(4 * 3600, ci.size).astype(np.int64) + 30
    clicked = opened & (rng.random(ci.size) < pop.click_p[e_cust])
    click_t = open_t + rng.exponential(90, ci.size).astype(np.int64) + 5
    e_dev = np.where(rng.random(ci.size) < pop.p_mobile[e_cust], 1, 0)
    last_send = (np.cumsum(n_send) - 1)[unsub]
    unsub_t = send_t[last_send] + rng.exponential(6 * 3600, last_send.size).astype(np.int64) + 60
    opened_i, clicked_i = np.flatnonzero(opened), np.flatnonzero(clicked)
    for sel, t, etype in (
        (np.arange(ci.size), send_t, "email_send"),
        (opened_i, open_t[opened_i], "email_open"),
        (clicked_i, click_t[clicked_i], "email_click"),
        (last_send, unsub_t, "email_unsubscribe"),
    ):
        parts.append(
            _event_part(sel.size, t=t, type=ET[etype], cust=e_cust[sel], dev=e_dev[sel],
                        chan=4, prop=P_CAMPAIGN + ci[sel])
        )  # fmt: skip
    ev = _concat_parts(parts)
    ok = (ev["t"] >= cal.epoch0) & (ev["t"] <= cal.end_ts)
    o = np.flatnonzero(ok)
    o = o[np.argsort(ev["t"][o], kind="stable")]
    return {f: v[o] for f, v in ev.items()}


# --------------------------------------------------------------------------- dirt and writing
def _dirt_rows(rng: np.random.Generator, n: int, kinds: tuple[str, ...], rate: float) -> dict:
    """Disjoint random row sets per dirt kind (at least one row per kind when rate > 0)."""
    if rate <= 0 or n == 0:
        return {}
    k = max(1, math.ceil(n * rate / len(kinds)))
    k = min(k, n // len(kinds))
    if k == 0:
        return {}
    rows = rng.choice(n, size=k * len(kinds), replace=False)
    return {kind: np.sort(rows[i * k : (i + 1) * k]) for i, kind in enumerate(kinds)}


def _replace(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    """Replace a column's values at the given rows (values cast to the column's type)."""
    i = table.schema.get_field_index(column)
    col = table.column(i).combine_chunks()
    if pa.types.is_string(values.type) and not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())  # malformed text (CSV only) turns the column to text
    elif values.type != col.type:
        values = pc.cast(values, col.type)
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    return table.set_column(i, column, pc.replace_with_mask(col, pa.array(mask), values))


def _dirty(
    table_name: str,
    table: pa.Table,
    rng: np.random.Generator,
    rate: float,
    fmt: str,
    ts: np.ndarray | None = None,
) -> pa.Table:
    """Inject the table's dirt kinds (malformed text only in CSV) at the given rate."""
    kinds = DIRT_KINDS.get(table_name, ())
    if fmt != "csv":
        kinds = tuple(k for k in kinds if k in TYPE_VALID_DIRT)
    rows = _dirt_rows(rng, table.num_rows, kinds, rate)
    if not rows:
        return table

    def pick(values: tuple[str, ...], k: int) -> pa.Array:
        return pa.array([values[i] for i in rng.integers(0, len(values), k)])

    def future(k: int) -> pa.Array:
        t0 = int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())
        return pa.array(t0 + rng.integers(0, 300 * DAY, k), type=pa.timestamp("s"))

    ts_col = {"customers": "updated_at", "orders": "ordered_at", "events": "occurred_at"}.get(
        table_name
    )
    for kind, r in rows.items():
        k = r.size
        if kind == "null_required":
            column = {"customers": "customer_id", "orders": "customer_id"}.get(table_name)
            column = column or {"order_items": "quantity", "events": "event_type"}[table_name]
            table = _replace(table, column, r, pa.nulls(k, table.schema.field(column).type))
        elif kind == "malformed_date":
            column = "birth_date" if table_name == "customers" else ts_col
            values = (
                ("31/02/1990", "1985-13-01", "unknown")
                if table_name == "customers"
                else MALFORMED_DATES
            )  # noqa: E501
            table = _replace(table, column, r, pick(values, k))
        elif kind == "malformed_amount":
            column = "total_amount" if table_name == "orders" else "unit_price"
            table = _replace(table, column, r, pick(MALFORMED_AMOUNTS, k))
        elif kind == "unknown_enum":
            column = "status" if table_name == "orders" else "event_type"
            values = (
                ("shipped", "pending", "on_hold")
                if table_name == "orders"
                else ("video_play", "page_veiw")
            )  # noqa: E501
            table = _replace(table, column, r, pick(values, k))
        elif kind == "unknown_product":
            table = _replace(table, "product_id", r, _ids("P", 90000 + rng.integers(0, 9999, k), 5))
        elif kind == "future":
            table = _replace(table, ts_col, r, future(k))
    order = np.arange(table.num_rows)
    n_late = 0
    if "late" in rows and ts is not None:
        # late arrivals: events from days ago appended after newer rows at the end of the file
        tmax = ts.max()
        cand = np.flatnonzero((ts < tmax - 2 * DAY) & (ts > tmax - 25 * DAY))
        cand = cand if cand.size >= rows["late"].size else np.flatnonzero(ts < tmax - 2 * DAY)
        late = np.sort(rng.choice(cand, min(rows["late"].size, cand.size), replace=False))
        order = np.concatenate([np.delete(order, late), late])
        n_late = late.size
    if "duplicate" in rows:
        # exact copies of rows, a little after the original (before any late tail)
        dup = rows["duplicate"]
        where = np.empty(order.size, dtype=np.int64)
        where[order] = np.arange(order.size)
        body = order.size - n_late
        pos = np.minimum(where[dup] + 1 + rng.integers(0, 50, dup.size), body)
        order = np.insert(order, pos, dup)
    return table.take(pa.array(order))


def _write(table: pa.Table, path: Path, fmt: str) -> int:
    """Write one table chunk as CSV or Parquet; returns rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        pacsv.write_csv(table, tmp)
    else:
        pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return table.num_rows


def _file(out: Path, table: str, index: int, fmt: str) -> Path:
    """<out>/<table>/<table>_<NNN>.<ext>."""
    return out / table / f"{table}_{index:03d}.{fmt}"


def _ts(values: np.ndarray) -> pa.Array:
    """Unix seconds as a naive TIMESTAMP column."""
    return pa.array(values, type=pa.timestamp("s"))


@dataclass(frozen=True)
class _BlockJob:
    out: Path
    fmt: str
    seed: int
    block: int
    dirt_rate: float
    cal: _Calendar
    prods: _Products
    pop: _Population


def _run_block(job: _BlockJob) -> dict[str, int]:
    """Simulate one block of customers and write its orders, order_items and events files."""
    rng = _rng(job.seed, 10, job.block)
    cal, pop, prods = job.cal, job.pop, job.prods
    od = _orders(rng, cal, pop, prods)
    ev = _events(rng, cal, pop, prods, od)
    cust_ids = _ids("C", pop.number, 7)
    prefix = f"{job.block:03d}"
    n_orders = od.cust.size
    order_ids = _ids("O" + prefix, np.arange(1, n_orders + 1), 7)
    currency = pa.array(CURRENCIES).take(pa.array(pop.currency[od.cust]))
    total = (od.gross - od.discount) / 100.0
    orders = pa.table(
        {
            "order_id": order_ids,
            "customer_id": cust_ids.take(pa.array(od.cust)),
            "ordered_at": _ts(od.ts),
            "status": pa.array(ORDER_STATUSES).take(pa.array(od.status)),
            "channel": pa.array(ORDER_CHANNELS).take(pa.array(od.channel)),
            "store_region": pa.array(REGIONS).take(pa.array(pop.region[od.cust])),
            "total_amount": pa.array(total),
            "discount_amount": pa.array(od.discount / 100.0),
            "currency": currency,
        }
    )
    items = pa.table(
        {
            "order_id": order_ids.take(pa.array(od.line_order)),
            "product_id": _ids("P", od.line_product + 1, 5),
            "quantity": pa.array(od.line_qty, type=pa.int32()),
            "unit_price": pa.array(od.line_price / 100.0),
            "discount_amount": pa.array(od.line_discount / 100.0),
        }
    )
    n_ev = ev["t"].size
    purchase = ev["prop"] == P_ORDER
    order_props = _join(
        '{"order_id": "', order_ids, '", "revenue": ', _str_float(total), ', "currency": "',
        currency, '"}',
    )  # fmt: skip
    vocab = pa.array(
        PROP_VOCAB + [f'{{"campaign_id": "CMP{i + 1:04d}"}}' for i in range(cal.campaign_day.size)]
    )
    props = pc.if_else(
        pa.array(purchase),
        _take(order_props, np.where(purchase, ev["order"], -1)),
        _take(vocab, np.where(purchase, -1, ev["prop"])),
    )
    events = pa.table(
        {
            "event_id": _ids("E" + prefix, np.arange(1, n_ev + 1), 8),
            "occurred_at": _ts(ev["t"]),
            "event_type": pa.array(EVENT_TYPES).take(pa.array(ev["type"])),
            "customer_id": _take(cust_ids, ev["cust"]),
            "anonymous_id": pc.if_else(
                pa.array(ev["anon"] >= 0),
                _join("anon_", _str(ev["anon"])),
                pa.nulls(n_ev, pa.string()),
            ),
            "session_id": pc.if_else(
                pa.array(ev["sess"] >= 0),
                _ids("S" + prefix, ev["sess"] + 1, 8),
                pa.nulls(n_ev, pa.string()),
            ),
            "product_id": pc.if_else(
                pa.array(ev["prod"] >= 0),
                _ids("P", ev["prod"] + 1, 5),
                pa.nulls(n_ev, pa.string()),
            ),
            "device": _take(pa.array(DEVICES), ev["dev"]),
            "channel": _take(pa.array(EVENT_CHANNELS), ev["chan"]),
            "properties": props,
        }
    )
    drng = _rng(job.seed, 20, job.block)
    counts = {}
    for name, tbl, ts in (
        ("orders", orders, od.ts),
        ("order_items", items, None),
        ("events", events, ev["t"]),
    ):
        tbl = _dirty(name, tbl, drng, job.dirt_rate, job.fmt, ts)
        counts[name] = _write(tbl, _file(job.out, name, job.block, job.fmt), job.fmt)
    return counts


def _str_float(values: np.ndarray) -> pa.Array:
    """Floats rendered as strings (vectorised)."""
    return pc.cast(pa.array(values), pa.string())


def generate(
    out: Path,
    customers: int,
    days: int = 730,
    seed: int = 42,
    fmt: str = "csv",
    end_date: date = DEFAULT_END_DATE,
    dirt_rate: float = 0.01,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Write the five raw tables to <out>/<table>/<table>_<NNN>.<ext>; returns rows per table."""
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if days < 1:
        raise ValueError("days must be >= 1")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if not 0.0 <= dirt_rate <= 0.5:
        raise ValueError("dirt_rate must be between 0 and 0.5")
    out = Path(out)
    report = progress or (lambda stage, done, total: None)
    for table in TABLES:
        folder = out / table
        if folder.is_dir():
            for old in folder.glob(f"{table}_[0-9][0-9][0-9].*"):
                if old.suffix in (".csv", ".parquet", ".tmp"):
                    old.unlink()
    report("customers", 0, 1)
    cal = _calendar(seed, days, end_date)
    prods = _products(seed)
    pop, cust_table, updates = _population(seed, customers, cal, end_date)
    counts = {name: 0 for name in TABLES}
    counts["products"] = _write(_products_table(prods), _file(out, "products", 0, fmt), fmt)
    crng = _rng(seed, 4)
    cust_table = _dirty("customers", cust_table, crng, dirt_rate, fmt)
    counts["customers"] = _write(cust_table, _file(out, "customers", 0, fmt), fmt)
    if updates.num_rows:
        counts["customers"] += _write(updates, _file(out, "customers", 1, fmt), fmt)
    report("customers", 1, 1)
    n_blocks = math.ceil(customers / BLOCK_CUSTOMERS)
    jobs = [
        _BlockJob(out, fmt, seed, b, dirt_rate, cal, prods,
                  pop.subset(slice(b * BLOCK_CUSTOMERS, (b + 1) * BLOCK_CUSTOMERS)))
        for b in range(n_blocks)
    ]  # fmt: skip
    n_workers = min(n_blocks, workers if workers is not None else (os.cpu_count() or 1))
    report("activity", 0, n_blocks)
    results: list[dict[str, int]] = []
    if n_workers <= 1:
        for i, job in enumerate(jobs):
            results.append(_run_block(job))
            report("activity", i + 1, n_blocks)
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            futures = [pool.submit(_run_block, job) for job in jobs]
            for i, fut in enumerate(as_completed(futures)):
                results.append(fut.result())
                report("activity", i + 1, n_blocks)
    for r in results:
        for name, v in r.items():
            counts[name] += v
    return counts
