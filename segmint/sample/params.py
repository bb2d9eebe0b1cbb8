"""The latent customer types and their behaviour: rates, preferences, hours, fades.

The simulation is driven by latent customer types (bargain hunters, loyal high spenders,
gift buyers, browsers, one-time buyers, regulars) whose per-customer parameters are drawn
from overlapping, noisy distributions around these per-type values.
"""

from __future__ import annotations

import numpy as np

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
