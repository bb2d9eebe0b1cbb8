"""Events of one block: browse and purchase sessions, anonymous visits, signups, store
purchases and email campaigns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.contract import EVENT_TYPES
from segmint.sample.affinity import Tastes
from segmint.sample.calendar import DAY, Calendar, day_ts
from segmint.sample.draws import cum_rows, intensity_draws, pick, ragged_arange
from segmint.sample.orders import Orders
from segmint.sample.params import BOUNCE_P, HOURS_ONLINE, POST_CHURN_SESSIONS, RESEARCH_P
from segmint.sample.population import Population, engagement
from segmint.sample.reference import CATEGORIES, QUERIES

# event property vocabulary (JSON strings); campaign entries are appended per calendar
PAGES = ['{"page": "/"}', '{"page": "/sale"}', '{"page": "/new-in"}'] + [
    f'{{"page": "/c/{c}"}}' for c in CATEGORIES
]
SEARCH = [f'{{"query": "{q}"}}' for qs in QUERIES for q in qs]
PVIEW = ['{"source": "listing"}', '{"source": "search"}', '{"source": "recommendation"}']
CART = ['{"quantity": 1}', '{"quantity": 2}', '{"quantity": 3}']
CHECKOUT = ['{"step": "payment"}']
APP = ['{"app_version": "5.1.0"}', '{"app_version": "5.2.3"}', '{"app_version": "6.0.1"}']
METHODS = ['{"method": "password"}', '{"method": "google"}', '{"method": "apple"}']
SIGNUP = ['{"method": "email"}', '{"method": "google"}', '{"method": "apple"}']
PROP_VOCAB = PAGES + SEARCH + PVIEW + CART + CHECKOUT + APP + METHODS + SIGNUP
P_PAGE = 0
P_SEARCH = P_PAGE + len(PAGES)
P_PVIEW = P_SEARCH + len(SEARCH)
P_CART = P_PVIEW + len(PVIEW)
P_CHECKOUT = P_CART + len(CART)
P_APP = P_CHECKOUT + len(CHECKOUT)
P_LOGIN = P_APP + len(APP)
P_SIGNUP = P_LOGIN + len(METHODS)
P_CAMPAIGN = P_SIGNUP + len(SIGNUP)
P_NONE = -1
P_ORDER = -2  # purchase: built per row from the order

ET = {name: i for i, name in enumerate(EVENT_TYPES)}
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


def _session_devices(rng: np.random.Generator, pop: Population, cust: np.ndarray, app: np.ndarray):
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


@dataclass(frozen=True)
class _Sessions:
    """Every web/app session of a block: whose, when (anchor), of which kind."""

    cust: np.ndarray  # block-local customer index per session
    anchor: np.ndarray  # start (or, for purchases, end) time
    anchor_end: np.ndarray  # the session ends at its anchor (purchase sessions)
    app: np.ndarray
    kind: np.ndarray  # 0 browse, 1 purchase, 2 anonymous, 3 signup
    n_browse: int
    online: np.ndarray  # indexes of the web/app orders (one purchase session each)


def _sessions(rng: np.random.Generator, cal: Calendar, pop: Population, od: Orders) -> _Sessions:
    """Browse sessions (engagement fades earlier than purchases before churn), research
    visits before orders, purchase sessions of web/app orders, anonymous visits before
    signup and the signup itself. Store/phone orders only log the purchase."""
    lo = pop.alive_from
    c1, d1 = intensity_draws(rng, cal.browse_cum, pop.sess, lo, np.full_like(lo, cal.days))
    keep = rng.random(c1.size) < engagement(pop, c1, d1 + 0.5, POST_CHURN_SESSIONS)
    c1, d1 = c1[keep], d1[keep]
    b_t = (
        day_ts(cal, d1)
        + pick(rng.random(c1.size), cum_rows(HOURS_ONLINE)) * 3600
        + rng.integers(0, 3600, c1.size)
    )
    # research visits in the days before an order
    r = np.flatnonzero(rng.random(od.cust.size) < RESEARCH_P)
    r_t = od.ts[r] - rng.uniform(0.2, 7.0, r.size) * DAY
    b_cust = np.concatenate([c1, od.cust[r]])
    b_t = np.concatenate([b_t, r_t.astype(np.int64)])
    b_app = rng.random(b_cust.size) < pop.app_share[b_cust]
    online = np.flatnonzero(od.channel <= 1)
    p_cust = od.cust[online]
    p_t = od.ts[online] + rng.integers(0, 60, online.size)
    p_app = od.channel[online] == 1
    a_cust = np.repeat(np.arange(pop.number.size), pop.anon_sessions)
    a_t = pop.signup_ts[a_cust] - rng.uniform(3600, 10 * DAY, a_cust.size).astype(np.int64)
    a_app = np.zeros(a_cust.size, dtype=bool)
    s_cust = np.flatnonzero(~pop.existing & (pop.signup_ts >= cal.epoch0))
    s_t = pop.signup_ts[s_cust]
    s_app = rng.random(s_cust.size) < pop.app_share[s_cust]
    nb, npur, na, ns = b_cust.size, p_cust.size, a_cust.size, s_cust.size
    return _Sessions(
        cust=np.concatenate([b_cust, p_cust, a_cust, s_cust]),
        anchor=np.concatenate([b_t, p_t, a_t, s_t]),
        anchor_end=np.r_[np.zeros(nb, bool), np.ones(npur, bool), np.zeros(na + ns, bool)],
        app=np.concatenate([b_app, p_app, a_app, s_app]),
        kind=np.repeat(np.arange(4), [nb, npur, na, ns]),
        n_browse=nb,
        online=online,
    )


def _funnel(
    rng: np.random.Generator, pop: Population, tastes: Tastes, od: Orders, ss: _Sessions
) -> list[tuple]:
    """The events of every session in funnel order (blocks for _expand_sessions)."""
    sess_cust, app, kind = ss.cust, ss.app, ss.kind
    S = sess_cust.size
    sid = np.arange(S)
    blocks = []

    def rand_products(s: np.ndarray) -> np.ndarray:
        cust = sess_cust[s]
        cat = pick(rng.random(cust.size), pop.cat_cum[cust])
        day = tastes.session_day(ss.anchor[s])
        return tastes.pick(rng, cust, cat, pop.premium[cust], day)

    def queries(cust: np.ndarray) -> np.ndarray:
        cat = pick(rng.random(cust.size), pop.cat_cum[cust])
        return P_SEARCH + cat * 3 + rng.integers(0, 3, cust.size)

    def add(
        sel: np.ndarray, counts: np.ndarray | None, etype: str, rank: int, prod, prop, order=-1
    ):
        s = np.repeat(sel, counts) if counts is not None else sel
        products = prod(s) if callable(prod) else prod
        blocks.append((s, ET[etype], rank, products, prop(s) if callable(prop) else prop, order))

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
    add(bs, pv_pages, "page_view", 2, -1, lambda s: P_PAGE + rng.integers(0, len(PAGES), s.size))
    n_search = (rng.random(bs.size) < np.where(is_p[bs], 0.1, 0.2)) * (
        1 + rng.poisson(0.3, bs.size)
    )
    add(bs, n_search, "search", 3, -1, lambda s: queries(sess_cust[s]))
    views = np.where(
        is_p[bs],
        0,
        rng.poisson(pop.pviews[sess_cust[bs]] * np.where(is_a[bs], 0.7, 1.0)),
    )
    add(
        bs,
        views,
        "product_view",
        4,
        rand_products,
        lambda s: P_PVIEW + rng.integers(0, 3, s.size),
    )
    # browse carts (no purchase)
    bb = sid[is_b & ~bounce]
    cart = rng.random(bb.size) < pop.cart_p[sess_cust[bb]]
    add(bb[cart], None, "add_to_cart", 5, rand_products, P_CART)
    removed = bb[cart][rng.random(int(cart.sum())) < 0.35]
    add(removed, None, "remove_from_cart", 6, rand_products, P_NONE)
    # purchase funnel: view and add each order line, checkout, purchase
    line_sess = ss.n_browse + np.searchsorted(ss.online, od.line_order)
    line_online = np.isin(od.line_order, ss.online)
    ls = line_sess[line_online]
    lp = od.line_product[line_online]
    lq = np.minimum(od.line_qty[line_online], 3) - 1
    add(ls, None, "product_view", 4, lp, P_PVIEW)
    add(ls, None, "add_to_cart", 5, lp, P_CART + lq)
    ps = sid[is_p]
    add(ps, None, "checkout", 7, -1, P_CHECKOUT)
    add(ps, None, "purchase", 8, -1, P_ORDER, ss.online)
    return blocks


def _session_events(
    rng: np.random.Generator, pop: Population, tastes: Tastes, od: Orders, ss: _Sessions
) -> dict[str, np.ndarray]:
    """Every event of the web/app sessions, timed, with customer, device and channel."""
    ev = _expand_sessions(rng, ss.anchor, ss.anchor_end, _funnel(rng, pop, tastes, od, ss))
    sess = ev["sess"]
    kind = ss.kind
    cust = np.where(kind[sess] == 2, -1, ss.cust[sess])
    anon = np.where((kind[sess] == 2) | (kind[sess] == 3), pop.anon_id[ss.cust[sess]], -1)
    dev = _session_devices(rng, pop, ss.cust, ss.app)[sess]
    chan = np.where(ss.app, 1, 0)[sess]
    return _event_part(
        sess.size, t=ev["t"], type=ev["type"], cust=cust, anon=anon, sess=sess,
        prod=ev["prod"], dev=dev, chan=chan, prop=ev["prop"], order=ev["order"],
    )  # fmt: skip


def _email_events(
    rng: np.random.Generator, cal: Calendar, pop: Population
) -> list[dict[str, np.ndarray]]:
    """Email campaigns: sends to consented customers, opens fade with engagement; clicks,
    and an unsubscribe that ends the sends."""
    camp = cal.campaign_day
    first = np.searchsorted(camp, pop.consent_from, side="left")
    last = np.searchsorted(camp, pop.consent_to, side="left")
    n_send = np.maximum(last - first, 0)
    k = rng.geometric(pop.unsub_p)
    unsub = k <= n_send
    n_send = np.where(unsub, k, n_send)
    e_cust = np.repeat(np.arange(pop.number.size), n_send)
    ci = ragged_arange(n_send) + np.repeat(first, n_send)
    send_t = day_ts(cal, camp[ci]) + 8 * 3600 + rng.integers(0, 7200, ci.size)
    eng = engagement(pop, e_cust, camp[ci] + 0.5, 0.03)
    p_open = np.clip(pop.open_p[e_cust] * eng * np.where(cal.campaign_promo[ci], 1.25, 1.0), 0, 1)
    opened = rng.random(ci.size) < p_open
    open_t = send_t + rng.exponential(4 * 3600, ci.size).astype(np.int64) + 30
    clicked = opened & (rng.random(ci.size) < pop.click_p[e_cust])
    click_t = open_t + rng.exponential(90, ci.size).astype(np.int64) + 5
    e_dev = np.where(rng.random(ci.size) < pop.p_mobile[e_cust], 1, 0)
    last_send = (np.cumsum(n_send) - 1)[unsub]
    unsub_t = send_t[last_send] + rng.exponential(6 * 3600, last_send.size).astype(np.int64) + 60
    opened_i, clicked_i = np.flatnonzero(opened), np.flatnonzero(clicked)
    return [
        _event_part(sel.size, t=t, type=ET[etype], cust=e_cust[sel], dev=e_dev[sel],
                    chan=4, prop=P_CAMPAIGN + ci[sel])
        for sel, t, etype in (
            (np.arange(ci.size), send_t, "email_send"),
            (opened_i, open_t[opened_i], "email_open"),
            (clicked_i, click_t[clicked_i], "email_click"),
            (last_send, unsub_t, "email_unsubscribe"),
        )
    ]  # fmt: skip


def simulate_events(
    rng: np.random.Generator, cal: Calendar, pop: Population, tastes: Tastes, od: Orders
) -> dict[str, np.ndarray]:
    """All events of one block: sessions, purchases, emails, app opens, anonymous visits."""
    parts = [_session_events(rng, pop, tastes, od, _sessions(rng, cal, pop, od))]
    # store / phone purchases: a single purchase event, no web session
    off = np.flatnonzero(od.channel >= 2)
    parts.append(
        _event_part(off.size, t=od.ts[off] + rng.integers(0, 60, off.size), type=ET["purchase"],
                    cust=od.cust[off], dev=np.where(od.channel[off] == 2, 5, 6),
                    chan=od.channel[off], prop=P_ORDER, order=off)
    )  # fmt: skip
    parts.extend(_email_events(rng, cal, pop))
    ev = _concat_parts(parts)
    ok = (ev["t"] >= cal.epoch0) & (ev["t"] <= cal.end_ts)
    o = np.flatnonzero(ok)
    o = o[np.argsort(ev["t"][o], kind="stable")]
    return {f: v[o] for f, v in ev.items()}
