"""Holdout readout: did exported members buy more than the holdout in the N days after?

For every successful export run, the members recorded for that run are split into the
exported group and the holdout group. Outcomes come from the orders mart: a member
purchased when it has a completed order with as_of_date < order_date <= as_of_date + N;
revenue is the sum of those orders' total_amount (0 when none). The uplift is exported
minus holdout; its 95% confidence interval uses the normal approximation (difference of
two proportions for the purchase rate, Welch's unequal-variance standard error for revenue
per member).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import duckdb

from segmint.activation.conditions import quote_ident
from segmint.activation.state import SCHEMA, ensure_activation_schema, utcnow
from segmint.activation.targeting import AudienceError

Z95 = 1.959963984540054


def diff_ci(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int, z: float = Z95
) -> tuple[float | None, float | None]:
    """Normal-approximation CI of mean_a - mean_b with Welch's standard error (None if n < 2)."""
    if n_a < 2 or n_b < 2:
        return None, None
    se = math.sqrt(var_a / n_a + var_b / n_b)
    diff = mean_a - mean_b
    return diff - z * se, diff + z * se


def proportion_ci(
    p_a: float, n_a: int, p_b: float, n_b: int, z: float = Z95
) -> tuple[float | None, float | None]:
    """Normal-approximation (Wald) CI of p_a - p_b (None when a group is empty)."""
    if n_a < 1 or n_b < 1:
        return None, None
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    diff = p_a - p_b
    return diff - z * se, diff + z * se


def _relation(name: str) -> str:
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(p.replace("_", "").isalnum() for p in parts):
        raise AudienceError([f"invalid orders table name {name!r}"])
    return ".".join(quote_ident(p) for p in parts)


def compute_holdout_readout(
    con: duckdb.DuckDBPyConnection,
    window_days: int = 30,
    orders_table: str = "marts.fct_orders",
) -> int:
    """Recompute activation.holdout_readout for every successful run; returns rows written."""
    if window_days < 1:
        raise AudienceError([f"window_days must be at least 1, got {window_days}"])
    ensure_activation_schema(con)
    orders = _relation(orders_table)
    max_row = con.execute(f"select max(cast(order_date as date)) from {orders}").fetchone()
    data_until: date | None = max_row[0] if max_row else None
    stats = con.execute(
        f"""
        with runs as (
            select run_id, audience, destination, as_of_date
            from {SCHEMA}.audience_runs
            where status = 'success' and as_of_date is not null
        ),
        members as (
            select r.run_id, r.as_of_date, m.customer_id, m.in_holdout
            from {SCHEMA}.audience_run_members m
            join runs r on r.run_id = m.run_id
        ),
        outcome as (
            select m.run_id, m.customer_id, m.in_holdout,
                   count(o.customer_id) > 0 as purchased,
                   coalesce(sum(o.total_amount), 0) as revenue
            from members m
            left join {orders} o
                on o.customer_id = m.customer_id
                and coalesce(o.is_completed, false)
                and cast(o.order_date as date) > m.as_of_date
                and cast(o.order_date as date) <= m.as_of_date + cast(? as integer)
            group by m.run_id, m.customer_id, m.in_holdout
        )
        select r.run_id, r.audience, r.destination, r.as_of_date, o.in_holdout,
               count(*) as n,
               count(*) filter (where o.purchased) as purchasers,
               avg(o.revenue) as mean_revenue,
               coalesce(var_samp(o.revenue), 0) as var_revenue
        from outcome o join runs r on r.run_id = o.run_id
        group by r.run_id, r.audience, r.destination, r.as_of_date, o.in_holdout
        order by r.run_id, o.in_holdout
        """,
        [window_days],
    ).fetchall()
    groups: dict[str, dict[str, Any]] = {}
    for run_id, audience, destination, as_of, in_holdout, n, buyers, mean, var in stats:
        entry = groups.setdefault(
            run_id,
            {
                "audience": audience,
                "destination": destination,
                "as_of": as_of,
                True: None,
                False: None,
            },
        )
        entry[bool(in_holdout)] = (int(n), int(buyers), float(mean or 0.0), float(var or 0.0))
    now = utcnow()
    rows = []
    for run_id, entry in groups.items():
        exp = entry[False] or (0, 0, 0.0, 0.0)
        hold = entry[True] or (0, 0, 0.0, 0.0)
        n_e, b_e, mean_e, var_e = exp
        n_h, b_h, mean_h, var_h = hold
        rate_e = b_e / n_e if n_e else None
        rate_h = b_h / n_h if n_h else None
        rate_lo, rate_hi = (
            proportion_ci(rate_e, n_e, rate_h, n_h)
            if rate_e is not None and rate_h is not None
            else (None, None)
        )
        rev_lo, rev_hi = diff_ci(mean_e, var_e, n_e, mean_h, var_h, n_h)
        window_end = entry["as_of"] + timedelta(days=window_days)
        rows.append(
            (
                entry["audience"],
                entry["destination"],
                run_id,
                entry["as_of"],
                window_days,
                window_end,
                data_until is not None and data_until >= window_end,
                n_e,
                n_h,
                b_e,
                b_h,
                rate_e,
                rate_h,
                rate_e - rate_h if rate_e is not None and rate_h is not None else None,
                rate_lo,
                rate_hi,
                mean_e if n_e else None,
                mean_h if n_h else None,
                mean_e - mean_h if n_e and n_h else None,
                rev_lo,
                rev_hi,
                now,
            )
        )
    con.begin()
    try:
        con.execute(f"delete from {SCHEMA}.holdout_readout")
        if rows:
            marks = ", ".join("?" for _ in rows[0])
            con.executemany(f"insert into {SCHEMA}.holdout_readout values ({marks})", rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return len(rows)
