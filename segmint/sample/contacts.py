"""Contact data of the customers table: names, emails, phones, postal codes, cities."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.sample.columns import concat, ids, int_text
from segmint.sample.draws import cum_rows, pick
from segmint.sample.population import Population, Profiles
from segmint.sample.reference import (
    ACQ_CHANNELS,
    CITIES,
    COUNTRIES,
    COUNTRY_CC,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    GENDERS,
    LAST_NAMES,
    MALE_NAMES,
)


def _digits(rng: np.random.Generator, n: int, lo: int, hi: int, width: int) -> pa.Array:
    """Random zero-padded digit strings in [lo, hi)."""
    return pc.utf8_lpad(int_text(rng.integers(lo, hi, n)), width, "0")


def _letters(rng: np.random.Generator, n: int, k: int) -> pa.Array:
    """Random upper-case letter strings of length k."""
    alphabet = pa.array(list("ABCDEFGHJKLMNPRSTUVWXY"))
    parts = [alphabet.take(pa.array(rng.integers(0, 22, n))) for _ in range(k)]
    return concat(*parts) if k > 1 else parts[0]


def _select(country: np.ndarray, per_country: dict[int, pa.Array], default: pa.Array) -> pa.Array:
    """Pick, per row, the value built for that row's country."""
    out = default
    for c, values in per_country.items():
        out = pc.if_else(pa.array(country == c), values, out)
    return out


def postal_codes(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Plausible postal codes in each country's format."""
    n = country.size
    five = _digits(rng, n, 1000, 96000, 5)
    four = _digits(rng, n, 1000, 10000, 4)
    return _select(
        country,
        {
            0: concat(
                _letters(rng, n, 2),
                int_text(rng.integers(1, 20, n)),
                " ",
                int_text(rng.integers(1, 10, n)),
                _letters(rng, n, 2),
            ),  # noqa: E501
            3: concat(four, " ", _letters(rng, n, 2)),
            6: four,
            7: concat(
                _letters(rng, n, 1),
                _digits(rng, n, 1, 25, 2),
                " ",
                _letters(rng, n, 1),
                _digits(rng, n, 100, 1000, 3),
            ),  # noqa: E501
            8: four,
            9: concat(four, "-", _digits(rng, n, 100, 1000, 3)),
        },
        five,
    )


def phones(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Clearly fictional phone numbers (Ofcom drama ranges, 555), E.164-ish or national."""
    n = country.size
    tail = _digits(rng, n, 0, 1000, 3)
    style = rng.integers(0, 4, n)
    uk = _select(
        style,
        {
            0: concat("+44 20 7946 0", tail),
            1: concat("020 7946 0", tail),
            2: concat("+44 7700 900", tail),
        },
        concat("07700 900", tail),
    )
    cc = pa.array(COUNTRY_CC).take(pa.array(country))
    mid = _digits(rng, n, 100, 200, 3)
    intl = pc.if_else(
        pa.array(style < 2),
        concat("+", cc, " 555 ", mid, " ", tail),
        concat("0555 ", mid, " ", tail),
    )
    phone = pc.if_else(pa.array((country == 0) | (country == 7)), uk, intl)
    return pc.if_else(pa.array(rng.random(n) < 0.1), pa.nulls(n, pa.string()), phone)


def _cities(
    rng: np.random.Generator, country: np.ndarray, profiles: Profiles
) -> tuple[np.ndarray, np.ndarray]:
    """City index within the country per customer, and after a move (for update rows)."""
    city_idx = np.empty(country.size, dtype=np.int64)
    for c, cities in enumerate(CITIES):
        idx = np.flatnonzero(country == c)
        w = 1.0 / np.arange(1, len(cities) + 1) ** 1.1
        city_idx[idx] = pick(rng.random(idx.size), cum_rows(w))
    new_city = city_idx.copy()
    moved = profiles.updated[profiles.moved]
    for i, u in zip(moved, rng.random(int(profiles.moved.sum())), strict=True):
        k = len(CITIES[country[i]])
        new_city[i] = (city_idx[i] + 1 + int(u * (k - 1))) % k
    return city_idx, new_city


def _names_and_emails(
    rng: np.random.Generator, gender: np.ndarray
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """First and last names, and emails made of them (3% missing)."""
    n = gender.size
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
        concat(pc.utf8_lower(first), ".", local_last),
        concat(pc.utf8_lower(pc.utf8_slice_codeunits(first, 0, 1)), local_last),
    )
    email = concat(
        local,
        int_text(rng.integers(1, 999, n)),
        "@",
        pa.array(EMAIL_DOMAINS).take(pa.array(pick(rng.random(n), cum_rows(np.ones(3))))),
    )
    email = pc.if_else(pa.array(rng.random(n) < 0.03), pa.nulls(n, pa.string()), email)
    return first, last, email


def customers_table(
    rng: np.random.Generator, pop: Population, profiles: Profiles
) -> tuple[pa.Table, pa.Table]:
    """The customers table and its later-update rows (new city and/or flipped consent)."""
    n, country = pop.number.size, profiles.country
    city_idx, new_city = _cities(rng, country, profiles)
    first, last, email = _names_and_emails(rng, profiles.gender)
    phone = phones(rng, country)
    postal = postal_codes(rng, country)
    country_a = pa.array(COUNTRIES).take(pa.array(country))

    def city_of(ci: np.ndarray) -> pa.Array:
        flat = [c for cs in CITIES for c in cs]
        offs = np.cumsum([0] + [len(cs) for cs in CITIES])[:-1]
        return pa.array(flat).take(pa.array(offs[country] + ci))

    gender_a = pa.array(GENDERS).take(pa.array(profiles.gender))
    gender_a = pc.if_else(pa.array(rng.random(n) < 0.01), pa.nulls(n, pa.string()), gender_a)
    table = pa.table(
        {
            "customer_id": ids("C", pop.number, 7),
            "email": email,
            "phone": phone,
            "first_name": first,
            "last_name": last,
            "birth_date": pa.array(profiles.birth_days, type=pa.date32()),
            "gender": gender_a,
            "country": country_a,
            "city": city_of(city_idx),
            "postal_code": postal,
            "signup_at": pa.array(pop.signup_ts, type=pa.timestamp("s")),
            "acquisition_channel": pa.array(ACQ_CHANNELS).take(pa.array(profiles.acquisition)),
            "marketing_consent": pa.array(profiles.consent),
            "updated_at": pa.array(profiles.updated_ts, type=pa.timestamp("s")),
        }
    )
    upd = profiles.updated
    upd_idx = pa.array(upd)
    updates = table.take(upd_idx)
    for name, values in (
        ("city", city_of(new_city).take(upd_idx)),
        ("marketing_consent", pa.array(profiles.consent_new[upd])),
        ("updated_at", pa.array(profiles.update_ts, type=pa.timestamp("s"))),
    ):
        updates = updates.set_column(updates.schema.get_field_index(name), name, values)
    return table, updates
