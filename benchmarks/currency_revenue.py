"""Published revenue by month of a two-currency shop next to the truth from its landing files.

    python -m benchmarks.currency_revenue [--workdir DIR] [--customers 2000] [--days 365]

Generates a shop whose customers pay in EUR or GBP (`segmint generate --currencies
EUR=0.6,GBP=0.4`, no dirt), runs the whole pipeline (`segmint run`, base currency EUR) unless
DIR already holds a published snapshot, and compares per month:
  - truth: the landing files read with pandas, each completed order converted at the latest
    fx_rates rate dated on or before its order date (merge_asof), rounded to cents, summed
    in Decimal (independent of the warehouse);
  - published: sum(total_amount_base) of completed orders in the published marts.fct_orders
    and sum(revenue) of marts.daily_demand;
  - unconverted: what summing total_amount regardless of currency gives (the old behaviour).
Writes benchmarks/results/currency_revenue.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CENT = Decimal("0.01")


def _segmint(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", "from segmint.cli import app; app()", *args]
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def build(workdir: Path, customers: int, days: int) -> dict[str, float]:
    """Generate the shop and run the pipeline; seconds per step."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    _segmint(
        "generate", "--out", "landing", "--customers", str(customers), "--days", str(days),
        "--dirt-rate", "0", "--currencies", "EUR=0.6,GBP=0.4", cwd=workdir,
    )  # fmt: skip
    t1 = time.perf_counter()
    _segmint("run", "--landing", "landing", "--warehouse", "warehouse/segmint.duckdb", cwd=workdir)
    t2 = time.perf_counter()
    return {"generate_s": round(t1 - t0, 1), "run_s": round(t2 - t1, 1)}


def truth_by_month(landing: Path) -> pd.DataFrame:
    """Completed revenue per month in EUR, from the landing CSVs and their rates only."""
    orders = pd.concat(
        pd.read_csv(f, dtype={"total_amount": str}) for f in sorted(landing.glob("orders/*.csv"))
    )
    orders = orders.drop_duplicates("order_id", keep="last")
    orders = orders[orders["status"].str.strip().str.lower() == "completed"].copy()
    orders["currency"] = orders["currency"].fillna("EUR").str.strip().str.upper()
    orders["date"] = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    rates = pd.read_csv(landing / "fx_rates" / "fx_rates_000.csv", dtype={"rate_to_base": str})
    rates["date"] = pd.to_datetime(rates["date"])
    rates["currency"] = rates["currency"].str.upper()
    orders = pd.merge_asof(
        orders.sort_values("date"),
        rates.sort_values("date"),
        on="date",
        by="currency",
        direction="backward",
    )
    base = orders["currency"] == "EUR"
    orders.loc[base, "rate_to_base"] = "1"
    assert orders["rate_to_base"].notna().all(), "an order has no rate"
    orders["amount"] = orders["total_amount"].map(Decimal)
    orders["amount_base"] = [
        (a * Decimal(r)).quantize(CENT, ROUND_HALF_UP)
        for a, r in zip(orders["amount"], orders["rate_to_base"], strict=True)
    ]
    orders["month"] = orders["date"].dt.strftime("%Y-%m")
    return orders.groupby("month").agg(
        orders=("order_id", "count"),
        gbp_orders=("currency", lambda s: int((s == "GBP").sum())),
        truth_eur=("amount_base", "sum"),
        unconverted=("amount", "sum"),
    )


def published_by_month(published: Path) -> pd.DataFrame:
    """Per month from the published snapshot, as exact Decimals (not through float64)."""
    with duckdb.connect(str(published), read_only=True) as con:
        fct = con.execute(
            "select strftime(order_date, '%Y-%m'), sum(total_amount_base)"
            " from marts.fct_orders where is_completed group by 1"
        ).fetchall()
        demand = dict(
            con.execute(
                "select strftime(demand_date, '%Y-%m'), sum(revenue) from marts.daily_demand"
                " group by 1"
            ).fetchall()
        )
    rows = [{"month": m, "published": v, "daily_demand": demand.get(m)} for m, v in fct]
    return pd.DataFrame(rows).set_index("month")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/segmint-currency-revenue"))
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    published = args.workdir / "warehouse" / "published.duckdb"
    timings = {} if published.exists() else build(args.workdir, args.customers, args.days)
    table = truth_by_month(args.workdir / "landing").join(published_by_month(published))
    rows = []
    for month, r in table.sort_index().iterrows():
        truth = Decimal(r["truth_eur"])
        rows.append(
            {
                "month": month,
                "orders": int(r["orders"]),
                "gbp_orders": int(r["gbp_orders"]),
                "truth_eur": str(truth),
                "published_eur": str(r["published"]),
                "daily_demand_eur": str(r["daily_demand"]),
                "diff_eur": str(r["published"] - truth),
                "unconverted_sum": str(r["unconverted"]),
                "unconverted_error_pct": round(float((r["unconverted"] - truth) / truth * 100), 2),
            }
        )
    out = {
        "shop": {"customers": args.customers, "days": args.days, "currencies": "EUR=0.6,GBP=0.4"},
        "timings": timings,
        "months": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "currency_revenue.json").write_text(json.dumps(out, indent=2) + "\n")
    head = "| month | orders | GBP orders | truth EUR | published EUR | daily_demand EUR | diff |"
    head += " unconverted sum (old) | old error |\n|---|---|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r['month']} | {r['orders']} | {r['gbp_orders']} | {r['truth_eur']} | "
        f"{r['published_eur']} | {r['daily_demand_eur']} | {r['diff_eur']} | "
        f"{r['unconverted_sum']} | {r['unconverted_error_pct']}% |"
        for r in rows
    ]
    (RESULTS / "currency_revenue.md").write_text(head + "\n".join(lines) + "\n")
    print(head + "\n".join(lines))


if __name__ == "__main__":
    main()
