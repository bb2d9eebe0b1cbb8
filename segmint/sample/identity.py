"""Identity in the sample: one person, many identifiers (opt-in: `generate(identity=True)`).

What a real shop's data holds about one person beyond the one clean customer record:
- duplicate customer records: the person registered again with the same e-mail in another
  case or with stray whitespace (some repeat their phone number too);
- guest checkouts: a guest record (customer_id G…) with the person's e-mail and one order;
  guests who never registered are persons of their own, and some guests left the shop's
  placeholder address (noreply@…), which belongs to nobody;
- anonymous browsing before login on several devices: each extra device browses a few
  sessions anonymously, then logs in (the login carries customer_id and anonymous_id);
- shared devices: a household tablet that two customers log in on, and store kiosks that
  many customers log in on; they belong to no single person.

The truth (which person each customer_id and anonymous_id is) goes to
`<out>/_truth/identity.parquet`, outside the landing contract (ingest ignores it: no table
is named identity and `_truth` is no table folder); only the stitching metric reads it.
Files: customers/customers_identity, orders/orders_identity, events/events_identity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmint.sample.calendar import DAY, Calendar
from segmint.sample.columns import concat, ids, int_text, take_or_null, timestamps
from segmint.sample.draws import stream
from segmint.sample.population import Population
from segmint.sample.reference import CURRENCIES, REGIONS

TRUTH_FILE = Path("_truth") / "identity.parquet"
PLACEHOLDER_EMAIL = "noreply@shop.example"
DUPLICATE_SHARE = 0.05  # customers with a second record
GUEST_SHARE = 0.04  # customers who also checked out as a guest
NEW_GUEST_SHARE = 0.02  # guests who never registered (per customer)
PLACEHOLDER_SHARE = 0.005  # guests who left the placeholder e-mail
DEVICE_SHARE = 0.3  # customers with extra devices (1-3), browsed before login
HOUSEHOLD_SHARE = 0.01  # customers sharing a tablet with another customer
KIOSK_PER_CUSTOMERS = 4000  # one store kiosk per this many customers
_DEVICES = ("desktop", "mobile", "tablet")


def _email_variant(rng: np.random.Generator, email: pa.Array) -> pa.Array:
    """The same address as typed again: other case, stray spaces, or unchanged."""
    u = rng.random(len(email))
    upper = pc.utf8_upper(email)
    title = pc.utf8_capitalize(email)
    spaced = concat(" ", email, "  ")
    out = pc.if_else(pa.array(u < 0.3), upper, email)
    out = pc.if_else(pa.array((u >= 0.3) & (u < 0.6)), title, out)
    return pc.if_else(pa.array((u >= 0.6) & (u < 0.85)), spaced, out)


def _records(
    rng: np.random.Generator, cust: pa.Table, idx: np.ndarray, new_ids: pa.Array, signup: np.ndarray
) -> pa.Table:
    """Copies of customers `idx` as new records (other id, re-typed e-mail, own signup)."""
    rec = cust.take(pa.array(idx))
    email = _email_variant(rng, rec["email"].combine_chunks())
    for name, values in (
        ("customer_id", new_ids),
        ("email", email),
        ("signup_at", timestamps(signup)),
        ("updated_at", timestamps(signup)),
        ("marketing_consent", pa.array(rng.random(idx.size) < 0.4)),
    ):
        rec = rec.set_column(rec.schema.get_field_index(name), name, values)
    return rec


def _customers(rng, cust: pa.Table, n: int, end_ts: int):
    """Duplicate and guest records; returns (records, person per record, guests' rows)."""
    signup = pc.cast(cust["signup_at"], pa.int64()).to_numpy()
    has_email = pc.is_valid(cust["email"]).to_numpy(zero_copy_only=False)
    dup = np.flatnonzero(has_email & (rng.random(n) < DUPLICATE_SHARE))
    room = np.maximum(end_ts - DAY - signup[dup], 0)
    dup_signup = (signup[dup] + rng.random(dup.size) * np.minimum(room, 400 * DAY)).astype(np.int64)
    dups = _records(rng, cust, dup, ids("C", n + 1 + np.arange(dup.size), 7), dup_signup)
    keep_phone = rng.random(dup.size) < 0.6
    dups = dups.set_column(
        dups.schema.get_field_index("phone"),
        "phone",
        pc.if_else(pa.array(keep_phone), dups["phone"], pa.nulls(dup.size, pa.string())),
    )
    guest = np.flatnonzero(has_email & (rng.random(n) < GUEST_SHARE))
    k_new = int(round(NEW_GUEST_SHARE * n))
    k_ph = max(1, int(round(PLACEHOLDER_SHARE * n)))
    lookalike = rng.integers(0, n, k_new + k_ph)  # names etc. of some customer, own e-mail
    g_idx = np.concatenate([guest, lookalike])
    g_ts = (end_ts - rng.uniform(DAY, 600 * DAY, g_idx.size)).astype(np.int64)
    g_ids = ids("G", np.arange(1, g_idx.size + 1), 7)
    guests = _records(rng, cust, g_idx, g_ids, g_ts)
    own = concat("guest.", int_text(np.arange(k_new) + 1), "@example.net")
    placeholder = pa.array([PLACEHOLDER_EMAIL] * k_ph)
    email = pa.concat_arrays([guests["email"].combine_chunks()[: guest.size], own, placeholder])
    guests = guests.set_column(guests.schema.get_field_index("email"), "email", email)
    for name in ("phone", "acquisition_channel"):
        guests = guests.set_column(
            guests.schema.get_field_index(name), name, pa.nulls(g_idx.size, pa.string())
        )
    guests = guests.set_column(
        guests.schema.get_field_index("marketing_consent"),
        "marketing_consent",
        pa.array(np.zeros(g_idx.size, bool)),
    )
    person = np.concatenate([dup, guest, n + np.arange(k_new + k_ph)])
    return pa.concat_tables([dups, guests]), person, (g_ids, g_idx, g_ts)


def _guest_orders(rng, pop: Population, guests: tuple) -> pa.Table:
    """One completed order per guest record, in the currency of the customer it copies."""
    g_ids, g_idx, g_ts = guests
    total = np.round(rng.uniform(15.0, 180.0, g_idx.size), 2)
    return pa.table(
        {
            "order_id": ids("OG", np.arange(1, g_idx.size + 1), 7),
            "customer_id": g_ids,
            "ordered_at": timestamps(g_ts),
            "status": pa.array(["completed"] * g_idx.size),
            "channel": pa.array(["web"] * g_idx.size),
            "store_region": pa.array(REGIONS).take(pa.array(pop.region[g_idx])),
            "total_amount": pa.array(total),
            "discount_amount": pa.array(np.zeros(g_idx.size)),
            "currency": pa.array(CURRENCIES).take(pa.array(pop.currency[g_idx])),
        }
    )


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of customers living together (a shared tablet; half share a landline too)."""
    house_a = np.flatnonzero(rng.random(n) < HOUSEHOLD_SHARE)
    house_b = (house_a + rng.integers(1, max(n, 2), house_a.size)) % n
    keep = ~np.isin(house_b, house_a) & ~pd_duplicated(house_b)
    return house_a[keep], house_b[keep]


def _sessions(rng, n: int, signup, login_id, households, window: tuple[int, int]):
    """Sessions on extra devices: (start, customer number or -1, device index, device kind,
    device owner or -1 when shared). Anonymous visits come before each device's login."""
    start_ts, end_ts = window
    owner = np.repeat(
        np.arange(n), np.where(rng.random(n) < DEVICE_SHARE, rng.integers(1, 4, n), 0)
    )
    house_a, house_b = households
    n_kiosk = max(1, n // KIOSK_PER_CUSTOMERS)
    kiosk_users = [
        rng.choice(n, min(n, int(rng.integers(15, 41))), replace=False) for _ in range(n_kiosk)
    ]
    # logins: (device, customer)
    n_own, n_house = owner.size, house_a.size
    dev_login = np.concatenate(
        [np.arange(n_own), n_own + np.arange(n_house), n_own + np.arange(n_house)]
        + [np.full(u.size, n_own + n_house + k) for k, u in enumerate(kiosk_users)]
    )
    cust_login = np.concatenate([owner, house_a, house_b, *kiosk_users]).astype(np.int64)
    lo = np.maximum(signup[cust_login], start_ts + 30 * DAY)
    login_t = (lo + rng.random(lo.size) * np.maximum(end_ts - DAY - lo, DAY)).astype(np.int64)
    # anonymous visits before the first login of personal and household devices
    first = np.full(n_own + n_house, np.iinfo(np.int64).max)
    personal = dev_login < n_own + n_house
    np.minimum.at(first, dev_login[personal], login_t[personal])
    n_anon = 1 + rng.poisson(1.0, first.size)
    dev_anon = np.repeat(np.arange(first.size), n_anon)
    anon_t = (first[dev_anon] - rng.uniform(1800, 20 * DAY, dev_anon.size)).astype(np.int64)
    kind = np.concatenate(
        [rng.integers(0, 2, n_own), np.full(n_house, 2), np.full(n_kiosk, 2)]
    )  # desktop/mobile, tablet
    dev_owner = np.concatenate([owner, np.full(n_house + n_kiosk, -1)])
    t = np.concatenate([login_t, anon_t])
    who = np.concatenate([login_id[cust_login], np.full(dev_anon.size, -1)])
    dev = np.concatenate([dev_login, dev_anon])
    store = dev >= n_own + n_house
    return t, who, dev, kind, dev_owner, store


def _events(rng, sess, start_ts: int, end_ts: int) -> tuple[pa.Table, pa.Array]:
    """The events of the sessions (a login first when logged in, then page views) and the
    anonymous_id of every device."""
    t, who, dev, kind, _, store = sess
    views = 1 + rng.poisson(1.2, t.size)
    logged = who >= 0
    per = views + logged
    s = np.repeat(np.arange(t.size), per)
    pos = np.arange(s.size) - np.repeat(np.cumsum(per) - per, per)
    ev_t = t[s] + pos * rng.integers(20, 121, s.size)
    is_login = logged[s] & (pos == 0)
    keep = (ev_t >= start_ts) & (ev_t <= end_ts)
    s, ev_t, is_login = s[keep], ev_t[keep], is_login[keep]
    o = np.argsort(ev_t, kind="stable")
    s, ev_t, is_login = s[o], ev_t[o], is_login[o]
    m = s.size
    numbers = 10**12 + np.arange(kind.size) * 1000 + rng.integers(0, 1000, kind.size)
    anon = concat("anon_", int_text(numbers))
    pages = pa.array(['{"page": "/"}', '{"page": "/sale"}', '{"page": "/new-in"}'])
    props = pc.if_else(
        pa.array(is_login),
        pa.array(['{"method": "password"}'] * m),
        pages.take(pa.array(rng.integers(0, 3, m))),
    )
    table = pa.table(
        {
            "event_id": ids("EX", np.arange(1, m + 1), 9),
            "occurred_at": timestamps(ev_t),
            "event_type": pc.if_else(pa.array(is_login), "login", "page_view"),
            "customer_id": take_or_null(
                ids("C", np.maximum(who, 1), 7), np.where(who[s] >= 0, s, -1)
            ),
            "anonymous_id": anon.take(pa.array(dev[s])),
            "session_id": ids("SX", s + 1, 9),
            "product_id": pa.nulls(m, pa.string()),
            "device": pa.array(_DEVICES).take(pa.array(kind[dev[s]])),
            "channel": pc.if_else(pa.array(store[s]), "store", "web"),
            "properties": props,
        }
    )
    return table, anon


def clear_identity(out: Path, keep: bool) -> None:
    """Remove the identity files of an earlier generation (unless just written)."""
    if keep:
        return
    for table in ("customers", "orders", "events"):
        for old in (out / table).glob(f"{table}_identity.*"):
            old.unlink()
    (out / TRUTH_FILE).unlink(missing_ok=True)


def _own_contacts(
    tables: tuple[pa.Table, pa.Table], households: tuple[np.ndarray, np.ndarray]
) -> tuple[pa.Table, pa.Table]:
    """Distinct people have their own e-mail and phone: a draw that repeats an earlier
    customer's address gets the customer's number in it, a repeated phone number is left
    out (the fictional ranges hold 1,000 numbers each); households then share a landline
    (the second member of a household gets the first one's phone)."""
    cust, updates = tables
    n = cust.num_rows
    email = pc.utf8_lower(cust["email"].combine_chunks()).to_numpy(zero_copy_only=False)
    repeated = pd_duplicated(email)
    local = pc.split_pattern(cust["email"].combine_chunks(), "@", max_splits=1)
    fixed = concat(
        pc.list_element(local, 0),
        ".",
        int_text(np.arange(1, n + 1)),
        "@",
        pc.list_element(local, 1),
    )
    new_email = pc.if_else(pa.array(repeated), fixed, cust["email"].combine_chunks())
    phone = cust["phone"].combine_chunks()
    digits = pc.replace_substring_regex(phone, r"[^0-9]", "").to_numpy(zero_copy_only=False)
    new_phone = pc.if_else(pa.array(pd_duplicated(digits)), pa.nulls(n, pa.string()), phone)
    first, second = households
    shared = np.arange(n)
    shared[second[: second.size // 2]] = first[: second.size // 2]
    new_phone = new_phone.take(pa.array(shared))

    def apply(table: pa.Table) -> pa.Table:
        idx = pa.array(
            pc.cast(pc.utf8_slice_codeunits(table["customer_id"], 1), pa.int64()).to_numpy() - 1
        )
        for name, values in (("email", new_email), ("phone", new_phone)):
            table = table.set_column(table.schema.get_field_index(name), name, values.take(idx))
        return table

    return apply(cust), apply(updates)


def pd_duplicated(values: np.ndarray) -> np.ndarray:
    """True for every non-null value already seen earlier in the array."""
    out = np.zeros(values.size, bool)
    seen: set = set()
    for i, v in enumerate(values):
        if v is None:
            continue
        out[i] = v in seen
        seen.add(v)
    return out


def identity_sample(
    out: Path,
    seed: int,
    tables: tuple[pa.Table, pa.Table],
    pop: Population,
    cal: Calendar,
) -> tuple[pa.Table, pa.Table, dict[str, pa.Table]]:
    """Write the extra records, guest orders, device events and the truth; returns the
    customers table and its update rows (own contacts, household phones) and the extra
    tables to write (customers, orders, events: <out>/<table>/<table>_identity.<fmt>)."""

    start_ts, end_ts = cal.epoch0, cal.end_ts
    rng = stream(seed, 40)
    n = tables[0].num_rows
    households = _households(stream(seed, 41), n)
    cust, updates = _own_contacts(tables, households)
    records, rec_person, guests = _customers(rng, cust, n, end_ts)
    orders = _guest_orders(rng, pop, guests)
    # a device may log in with the person's second record
    dup_number = np.arange(1, n + 1)
    n_dup = int(np.sum(pc.starts_with(records["customer_id"], "C").to_numpy(zero_copy_only=False)))
    dup_of = rec_person[:n_dup]
    second = rng.random(n_dup) < 0.5
    dup_number[dup_of[second]] = n + 1 + np.flatnonzero(second)
    signup = pc.cast(cust["signup_at"], pa.int64()).to_numpy()
    sess = _sessions(rng, n, signup, dup_number, households, (start_ts, end_ts))
    events, anon = _events(rng, sess, start_ts, end_ts)
    extra = {"customers": records, "orders": orders, "events": events}
    dev_owner = sess[4]
    truth = pa.table(
        {
            "identifier_type": pa.array(
                ["customer_id"] * (n + records.num_rows) + ["anonymous_id"] * (n + len(anon))
            ),
            "identifier_value": pa.concat_arrays(
                [
                    cust["customer_id"].combine_chunks(),
                    records["customer_id"].combine_chunks(),
                    concat("anon_", int_text(pop.anon_id)),
                    anon,
                ]
            ),
            "person": pa.array(
                np.concatenate([np.arange(n), rec_person, np.arange(n), dev_owner]),
                mask=np.concatenate([np.zeros(2 * n + rec_person.size, bool), dev_owner < 0]),
            ),
        }
    )
    (out / TRUTH_FILE).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(truth, out / TRUTH_FILE)
    return cust, updates, extra
