"""Writing the sample: the raw tables of the contract as files, block by block (in parallel).

Everything is vectorised numpy, processed in blocks of customers and written with pyarrow,
so memory stays bounded; every block draws from its own seeded stream, so the bytes only
depend on the seed, never on the number of workers.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmint.contract import EVENT_TYPES, ORDER_STATUSES, TABLES
from segmint.sample.affinity import Affinity, block_tastes, build_affinity
from segmint.sample.calendar import Calendar, build_calendar
from segmint.sample.campaigns import clear_history, simulate_campaigns, write_runs
from segmint.sample.catalogue import Products, build_products, products_table
from segmint.sample.columns import concat, float_text, ids, int_text, take_or_null, timestamps
from segmint.sample.contacts import customers_table
from segmint.sample.dirt import dirty
from segmint.sample.draws import stream
from segmint.sample.events import P_ORDER, PROP_VOCAB, simulate_events
from segmint.sample.fx import assign_currencies, check_currencies, fx_rates_table
from segmint.sample.identity import clear_identity, identity_sample
from segmint.sample.orders import Orders, simulate_orders
from segmint.sample.population import Population, build_population
from segmint.sample.reference import (
    CURRENCIES,
    DEVICES,
    EVENT_CHANNELS,
    ORDER_CHANNELS,
    REGIONS,
)

Progress = Callable[[str, int, int], None]

DEFAULT_END_DATE = date(2026, 10, 31)
FORMATS = ("csv", "parquet")
BLOCK_CUSTOMERS = (
    10_000  # customers simulated (and files written) per block; fixed => deterministic
)


def write_file(table: pa.Table, path: Path, fmt: str) -> int:
    """Write one table chunk as CSV or Parquet; returns rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        pacsv.write_csv(table, tmp)
    else:
        pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return table.num_rows


def file_path(out: Path, table: str, index: int, fmt: str) -> Path:
    """<out>/<table>/<table>_<NNN>.<ext>."""
    return out / table / f"{table}_{index:03d}.{fmt}"


@dataclass(frozen=True)
class _BlockJob:
    out: Path
    fmt: str
    seed: int
    block: int
    dirt_rate: float
    cal: Calendar
    prods: Products
    pop: Population
    aff: Affinity
    export_history: Path | None = None


def _orders_tables(
    od: Orders, pop: Population, cust_ids: pa.Array, prefix: str
) -> tuple[pa.Table, pa.Table, pa.Array, pa.Array, pa.Array]:
    """orders and order_items of a block; also order ids, currencies and totals (events
    carry them in their purchase properties)."""
    order_ids = ids("O" + prefix, np.arange(1, od.cust.size + 1), 7)
    currency = pa.array(CURRENCIES).take(pa.array(pop.currency[od.cust]))
    total = (od.gross - od.discount) / 100.0
    orders = pa.table(
        {
            "order_id": order_ids,
            "customer_id": cust_ids.take(pa.array(od.cust)),
            "ordered_at": timestamps(od.ts),
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
            "product_id": ids("P", od.line_product + 1, 5),
            "quantity": pa.array(od.line_qty, type=pa.int32()),
            "unit_price": pa.array(od.line_price / 100.0),
            "discount_amount": pa.array(od.line_discount / 100.0),
        }
    )
    return orders, items, order_ids, currency, total


def _events_table(
    ev: dict[str, np.ndarray],
    cal: Calendar,
    cust_ids: pa.Array,
    prefix: str,
    order_ids: pa.Array,
    currency: pa.Array,
    total: np.ndarray,
) -> pa.Table:
    """The events of a block; purchases carry their order's id, revenue and currency."""
    n_ev = ev["t"].size
    purchase = ev["prop"] == P_ORDER
    order_props = concat(
        '{"order_id": "', order_ids, '", "revenue": ', float_text(total), ', "currency": "',
        currency, '"}',
    )  # fmt: skip
    vocab = pa.array(
        PROP_VOCAB + [f'{{"campaign_id": "CMP{i + 1:04d}"}}' for i in range(cal.campaign_day.size)]
    )
    props = pc.if_else(
        pa.array(purchase),
        take_or_null(order_props, np.where(purchase, ev["order"], -1)),
        take_or_null(vocab, np.where(purchase, -1, ev["prop"])),
    )

    def optional(present: np.ndarray, values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(present), values, pa.nulls(n_ev, pa.string()))

    return pa.table(
        {
            "event_id": ids("E" + prefix, np.arange(1, n_ev + 1), 8),
            "occurred_at": timestamps(ev["t"]),
            "event_type": pa.array(EVENT_TYPES).take(pa.array(ev["type"])),
            "customer_id": take_or_null(cust_ids, ev["cust"]),
            "anonymous_id": optional(ev["anon"] >= 0, concat("anon_", int_text(ev["anon"]))),
            "session_id": optional(ev["sess"] >= 0, ids("S" + prefix, ev["sess"] + 1, 8)),
            "product_id": optional(ev["prod"] >= 0, ids("P", ev["prod"] + 1, 5)),
            "device": take_or_null(pa.array(DEVICES), ev["dev"]),
            "channel": take_or_null(pa.array(EVENT_CHANNELS), ev["chan"]),
            "properties": props,
        }
    )


def _run_block(job: _BlockJob) -> dict[str, int]:
    """Simulate one block of customers and write its orders, order_items and events files."""
    rng = stream(job.seed, 10, job.block)
    cal, pop, prods = job.cal, job.pop, job.prods
    tastes = block_tastes(job.seed, job.block, job.aff, pop.cat_cum, cal)
    od = simulate_orders(rng, cal, pop, prods, tastes)
    cust_ids = ids("C", pop.number, 7)
    if job.export_history is not None:
        history = job.export_history
        od = simulate_campaigns(history, job.seed, job.block, cal, pop, prods, tastes, od, cust_ids)
    ev = simulate_events(rng, cal, pop, tastes, od)
    prefix = f"{job.block:03d}"
    orders, items, order_ids, currency, total = _orders_tables(od, pop, cust_ids, prefix)
    events = _events_table(ev, cal, cust_ids, prefix, order_ids, currency, total)
    drng = stream(job.seed, 20, job.block)
    counts = {}
    for name, tbl, ts in (
        ("orders", orders, od.ts),
        ("order_items", items, None),
        ("events", events, ev["t"]),
    ):
        tbl = dirty(name, tbl, drng, job.dirt_rate, job.fmt, ts)
        counts[name] = write_file(tbl, file_path(job.out, name, job.block, job.fmt), job.fmt)
    return counts


def _remove_old_files(out: Path) -> None:
    """Remove the numbered files an earlier generate() wrote into `out`."""
    for table in TABLES:
        folder = out / table
        if folder.is_dir():
            for old in folder.glob(f"{table}_[0-9][0-9][0-9].*"):
                if old.suffix in (".csv", ".parquet", ".tmp"):
                    old.unlink()


def _run_blocks(
    jobs: list[_BlockJob], workers: int | None, report: Callable[[str, int, int], None]
) -> list[dict[str, int]]:
    """Rows per table of every block, in worker processes when there are several blocks."""
    n_blocks = len(jobs)
    n_workers = min(n_blocks, workers if workers is not None else (os.cpu_count() or 1))
    report("activity", 0, n_blocks)
    results: list[dict[str, int]] = []
    if n_workers <= 1:
        for i, job in enumerate(jobs):
            results.append(_run_block(job))
            report("activity", i + 1, n_blocks)
        return results
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        futures = [pool.submit(_run_block, job) for job in jobs]
        for i, fut in enumerate(as_completed(futures)):
            results.append(fut.result())
            report("activity", i + 1, n_blocks)
    return results


def _check_shape(
    customers: int, days: int, fmt: str, dirt_rate: float, departments: int | None, basket: float
) -> None:
    """ValueError for a generate() argument out of its range."""
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if days < 1:
        raise ValueError("days must be >= 1")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if not 0.0 <= dirt_rate <= 0.5:
        raise ValueError("dirt_rate must be between 0 and 0.5")
    if departments is not None and departments < 1:
        raise ValueError("departments must be >= 1")
    if not 0.0 < basket <= 50.0:
        raise ValueError("basket_scale must be above 0 and at most 50")


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
    currencies: Mapping[str, float] | None = None,
    departments: int | None = None,
    basket_scale: float = 1.0,
    identity: bool = False,
    export_history: Path | None = None,
) -> dict[str, int]:
    """Write the raw tables to <out>/<table>/<table>_<NNN>.<ext>; returns rows per table.

    `currencies` (weights by ISO code, e.g. {"EUR": 0.7, "GBP": 0.3}) draws each customer's
    currency from them; by default customers pay in their country's currency. fx_rates holds
    the rates to EUR (the base currency) of every other currency used.
    `departments` (e.g. 32) labels the catalogue in that many departments instead of its ten
    categories, and `basket_scale` multiplies every customer's extra lines per order: with
    both, a grocery-like shop whose baskets span several departments.
    `identity` adds duplicate and guest records, extra and shared devices
    (segmint.sample.identity).
    `export_history` (a folder) adds past campaigns: their export runs, members and holdouts
    as segmint's activation tables record them (segmint.sample.campaigns), and the orders
    they caused.
    """
    weights = check_currencies(currencies)
    _check_shape(customers, days, fmt, dirt_rate, departments, basket_scale)
    out = Path(out)
    report = progress or (lambda stage, done, total: None)
    _remove_old_files(out)
    if export_history is not None:
        clear_history(Path(export_history))
    report("customers", 0, 1)
    cal = build_calendar(seed, days, end_date)
    prods = build_products(seed)
    aff = build_affinity(seed, prods, days)
    pop, profiles, rng = build_population(seed, customers, cal, end_date)
    pop = assign_currencies(pop, seed, weights)
    if basket_scale != 1.0:
        pop = replace(pop, basket=pop.basket * basket_scale)
    cust_table, updates = customers_table(rng, pop, profiles)
    counts = {name: 0 for name in TABLES}
    extra: dict[str, int] = {}
    if identity:
        cust_table, updates, tables = identity_sample(out, seed, (cust_table, updates), pop, cal)
        for name, tbl in tables.items():
            extra[name] = write_file(tbl, out / name / f"{name}_identity.{fmt}", fmt)
    clear_identity(out, keep=identity)
    counts["products"] = write_file(
        products_table(prods, departments), file_path(out, "products", 0, fmt), fmt
    )
    crng = stream(seed, 4)
    cust_table = dirty("customers", cust_table, crng, dirt_rate, fmt)
    counts["customers"] = write_file(cust_table, file_path(out, "customers", 0, fmt), fmt)
    if updates.num_rows:
        counts["customers"] += write_file(updates, file_path(out, "customers", 1, fmt), fmt)
    counts["fx_rates"] = write_file(
        fx_rates_table(seed, cal, pop.currency), file_path(out, "fx_rates", 0, fmt), fmt
    )
    report("customers", 1, 1)
    n_blocks = math.ceil(customers / BLOCK_CUSTOMERS)
    jobs = [
        _BlockJob(out, fmt, seed, b, dirt_rate, cal, prods,
                  pop.subset(slice(b * BLOCK_CUSTOMERS, (b + 1) * BLOCK_CUSTOMERS)), aff,
                  export_history)
        for b in range(n_blocks)
    ]  # fmt: skip
    results = _run_blocks(jobs, workers, report)
    for r in [*results, extra]:
        for name, v in r.items():
            counts[name] += v
    if export_history is not None:
        write_runs(Path(export_history), seed, cal)
    return counts
