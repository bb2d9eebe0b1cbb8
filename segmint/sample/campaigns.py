"""Past campaigns: audiences the shop exported with segmint on past dates, and who responded.

A shop that has run segmint for a while has its own export history in the warehouse
(activation.audience_runs, audience_run_members, audience_holdout): each run selected the
consented customers matching an audience as of the day before sending, kept a deterministic
holdout (segmint.activation.holdout_bucket with the default salt) and sent the rest. This
module writes that history in exactly those shapes (parquet files under the folder given to
`generate(export_history=...)`; segmint.sample.history loads them into the warehouse) and
adds the orders the campaigns caused.

Responses are heterogeneous and latent (never written anywhere): per customer type, some
customers are persuadable (a send makes an extra purchase in the next weeks more likely),
some respond only when the campaign carries a discount, and the rest do not react; the
"sure things" who would have bought anyway are simply the customers whose ordinary orders
fall in the window. Audience rules use only what the shop could see (days since the last
order, consent), so members of a campaign differ from non-members, as in real exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmint.activation.selection import holdout_bucket
from segmint.sample.affinity import Tastes
from segmint.sample.calendar import DAY, Calendar
from segmint.sample.catalogue import Products
from segmint.sample.draws import pick, stream
from segmint.sample.orders import Orders, build_orders, merge_orders
from segmint.sample.population import Population, purchase_activity

SALT = "segmint"  # the activation layer's default holdout salt
DESTINATION = "mailchimp"
WINDOW_DAYS = 30  # responses fall within this many days of the send

# Per customer type (params.TYPES order: bargain_hunter, loyal_high_spender, gift_buyer,
# browser, one_time, regular): share persuadable by any send, share reacting to discounts only.
PERSUADABLE = np.array([0.10, 0.05, 0.35, 0.20, 0.10, 0.30])
DISCOUNT_ONLY = np.array([0.60, 0.05, 0.10, 0.25, 0.15, 0.15])
RESPONSE_P = 0.30  # chance of a caused purchase for a responsive, fully active member
RESPONSE_DELAY_DAYS = 6.0  # mean days from the send to a caused purchase (exponential)


@dataclass(frozen=True)
class PastCampaign:
    audience: str
    days_before_end: int  # the send day, counted back from the last day of the data
    rule: str  # active (ordered in 180 days) / lapsed (60-365 days ago) / recent (60 days)
    discount: float = 0.0  # discount rate of the campaign's offer (0: none)
    holdout_share: float = 0.2


CAMPAIGNS = (
    PastCampaign("newsletter_active", 330, "active"),
    PastCampaign("lapsed_discount_15", 270, "lapsed", 0.15),
    PastCampaign("recent_buyers_cross_sell", 210, "recent"),
    PastCampaign("lapsed_discount_15", 150, "lapsed", 0.15),
    PastCampaign("newsletter_active", 95, "active"),
    PastCampaign("recent_buyers_cross_sell", 50, "recent"),
    PastCampaign("lapsed_discount_15", 12, "lapsed", 0.15),  # its window is still open
)


@dataclass(frozen=True)
class Run:
    run_id: str
    campaign: PastCampaign
    send_day: int  # window day of the send; the run's as_of_date is the day before
    as_of_date: date
    started_at: datetime


def day_date(cal: Calendar, day: int) -> date:
    """Calendar date of window day `day`."""
    return (datetime.fromtimestamp(cal.epoch0, UTC) + timedelta(days=int(day))).date()


def past_runs(seed: int, cal: Calendar) -> list[Run]:
    """The export runs of the campaigns that fit in the simulated window (same for every block)."""
    rng = stream(seed, 32)
    runs = []
    for camp in CAMPAIGNS:
        suffix = rng.bytes(4).hex()
        send = cal.days - 1 - camp.days_before_end
        if send < 366:  # the audience rules look a year back
            continue
        started = datetime.combine(day_date(cal, send), datetime.min.time()) + timedelta(hours=6)
        run_id = f"{started:%Y%m%dT%H%M%S}Z-{suffix}"
        runs.append(Run(run_id, camp, send, day_date(cal, send - 1), started))
    return runs


def _last_order_day(od: Orders, n: int, before_day: int) -> np.ndarray:
    """Per customer: the day of the last order before `before_day` (-inf when none)."""
    last = np.full(n, -np.inf)
    keep = od.day < before_day
    np.maximum.at(last, od.cust[keep], od.day[keep].astype(float))
    return last


def _members(run: Run, pop: Population, cal: Calendar, od: Orders) -> np.ndarray:
    """Block-local indexes of the customers the run's audience selected."""
    d = run.send_day
    since = d - _last_order_day(od, pop.number.size, d)
    rule = {
        "active": since <= 180,
        "lapsed": (since > 60) & (since <= 365),
        "recent": since <= 60,
    }[run.campaign.rule]
    consented = (pop.consent_from <= d - 1) & (pop.consent_to > d)
    known = pop.signup_ts < cal.epoch0 + d * DAY
    return np.flatnonzero(rule & consented & known)


def _responses(
    rng: np.random.Generator, run: Run, pop: Population, treated: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Treated members who bought because of the send, and the day of that purchase."""
    responsive = (kind[treated] == 1) | ((kind[treated] == 2) & (run.campaign.discount > 0))
    p = RESPONSE_P * purchase_activity(pop, treated, np.full(treated.size, run.send_day + 0.5))
    hit = responsive & (rng.random(treated.size) < p)
    delay = np.minimum(rng.exponential(RESPONSE_DELAY_DAYS, treated.size), WINDOW_DAYS - 1.5)
    return treated[hit], run.send_day + 0.25 + delay[hit]


def simulate_campaigns(
    folder: Path,
    seed: int,
    block: int,
    cal: Calendar,
    pop: Population,
    prods: Products,
    tastes: Tastes,
    od: Orders,
    cust_ids: pa.Array,
) -> Orders:
    """Record the past runs' members and holdout of one block (parquet files in `folder`);
    return the block's orders with the purchases the campaigns caused."""
    rng = stream(seed, 30, block)
    n = pop.number.size
    u = rng.random(n)
    persuadable = PERSUADABLE[pop.ctype]
    kind = np.where(u < persuadable, 1, np.where(u < persuadable + DISCOUNT_ONLY[pop.ctype], 2, 0))
    ids = np.asarray(cust_ids.to_pylist(), dtype=object)
    members, holdouts, caused = [], [], []
    seen: set[str] = set()
    for run in past_runs(seed, cal):
        camp = run.campaign
        idx = _members(run, pop, cal, od)
        bucket = np.array([holdout_bucket(c, camp.audience, SALT) for c in ids[idx]])
        in_holdout = bucket < camp.holdout_share
        members.append(_member_rows(run, ids[idx], in_holdout))
        if camp.audience not in seen:
            holdouts.append(_holdout_rows(run, ids[idx], in_holdout, bucket))
            seen.add(camp.audience)
        who, when = _responses(rng, run, pop, idx[~in_holdout], kind)
        caused.append((who, when, np.full(who.size, camp.discount)))
    _write(folder / "audience_run_members" / f"audience_run_members_{block:03d}.parquet", members)
    _write(folder / "audience_holdout" / f"audience_holdout_{block:03d}.parquet", holdouts)
    return _with_caused_orders(rng, cal, pop, prods, tastes, od, caused)


def _with_caused_orders(
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    prods: Products,
    tastes: Tastes,
    od: Orders,
    caused: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> Orders:
    if not caused:
        return od
    cust = np.concatenate([c[0] for c in caused]).astype(np.int64)
    day = np.concatenate([c[1] for c in caused])
    rate = np.concatenate([c[2] for c in caused])
    ts = cal.epoch0 + (day * DAY).astype(np.int64)
    ok = ts <= cal.end_ts - 600
    cust, ts, rate = cust[ok], ts[ok], rate[ok]
    if cust.size == 0:
        return od
    order = np.lexsort((cust, ts))
    cust, ts, rate = cust[order], ts[order], rate[order]
    channel = np.minimum(pick(rng.random(cust.size), pop.chan_cum[cust]), 1)  # online
    extra = build_orders(rng, cal, pop, prods, tastes, cust, ts, channel, rate_override=rate)
    return merge_orders(od, extra)


def _member_rows(run: Run, ids: np.ndarray, in_holdout: np.ndarray) -> pa.Table:
    """Rows of activation.audience_run_members (customer_key is keyed at load time)."""
    n = ids.size
    return pa.table(
        {
            "run_id": pa.array([run.run_id] * n, pa.string()),
            "audience": pa.array([run.campaign.audience] * n, pa.string()),
            "destination": pa.array([DESTINATION] * n, pa.string()),
            "customer_id": pa.array(ids.tolist(), pa.string()),
            "in_holdout": pa.array(in_holdout, pa.bool_()),
        }
    )


def _holdout_rows(
    run: Run, ids: np.ndarray, in_holdout: np.ndarray, bucket: np.ndarray
) -> pa.Table:
    """Rows of activation.audience_holdout: the first run of an audience assigns the groups."""
    n = ids.size
    return pa.table(
        {
            "audience": pa.array([run.campaign.audience] * n, pa.string()),
            "customer_id": pa.array(ids.tolist(), pa.string()),
            "in_holdout": pa.array(in_holdout, pa.bool_()),
            "bucket": pa.array(bucket, pa.float64()),
            "share": pa.array([run.campaign.holdout_share] * n, pa.float64()),
            "assigned_run_id": pa.array([run.run_id] * n, pa.string()),
            "assigned_at": pa.array([run.started_at] * n, pa.timestamp("us")),
        }
    )


def clear_history(folder: Path) -> None:
    """Remove the files an earlier generation wrote to the history folder."""
    for name in ("audience_run_members", "audience_holdout"):
        for old in (folder / name).glob(f"{name}_[0-9][0-9][0-9].parquet"):
            old.unlink()
    (folder / "audience_runs.parquet").unlink(missing_ok=True)


def _write(path: Path, tables: list[pa.Table]) -> None:
    if not tables:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.concat_tables(tables), path, compression="zstd")


def write_runs(folder: Path, seed: int, cal: Calendar) -> int:
    """activation.audience_runs of the past runs (counts from the members files); rows."""
    files = sorted((folder / "audience_run_members").glob("*.parquet"))
    counts: dict[str, tuple[int, int]] = {}
    if files:
        t = pa.concat_tables([pq.read_table(p, columns=["run_id", "in_holdout"]) for p in files])
        t = t.set_column(1, "in_holdout", pc.cast(t["in_holdout"], pa.int64()))
        agg = t.group_by("run_id").aggregate([("in_holdout", "count"), ("in_holdout", "sum")])
        for r in agg.to_pylist():
            counts[r["run_id"]] = (r["in_holdout_count"], r["in_holdout_sum"])
    rows = []
    for run in past_runs(seed, cal):
        members, holdout = counts.get(run.run_id, (0, 0))
        rows.append(
            {
                "run_id": run.run_id,
                "audience": run.campaign.audience,
                "destination": DESTINATION,
                "format": DESTINATION,
                "mode": "full",
                "as_of_date": run.as_of_date,
                "started_at": run.started_at,
                "finished_at": run.started_at + timedelta(minutes=2),
                "status": "success",
                "members": members,
                "holdout": holdout,
                "exported": members - holdout,
                "added": members - holdout,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "audience_runs.parquet")
    return len(rows)
