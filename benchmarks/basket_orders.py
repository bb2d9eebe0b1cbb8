"""A grocery-like shop (baskets across many departments): published revenue by month and the
total-orders forecast next to the truth from its landing files.

    python -m benchmarks.basket_orders [--workdir DIR] [--customers 2000] [--days 400]

Generates a shop with `segmint generate --departments 32 --basket-scale 4 --dirt-rate 0`
(baskets span ~3 departments), runs the whole pipeline (`segmint run`) with the as-of date
`--holdout-days` (default 28) before the last order, so the forecast's horizon is days whose
orders the landing files hold, unless DIR already holds a published snapshot. Compares:
  - revenue per month: the landing files converted at their fx_rates (as
    benchmarks.currency_revenue) vs the published marts.fct_orders and marts.daily_demand;
  - daily completed orders in the horizon: the truth (distinct order ids in the landing
    files), the published `total` forecast (ml.demand_forecasts, with its 80% interval), and
    what summing daily_demand's per-department order counts gives (the old "total", a basket
    once per department), over the history up to the as-of date.
Writes benchmarks/results/basket_orders.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.currency_revenue import RESULTS, _segmint, published_by_month, truth_by_month

SHOP = ("--departments", "32", "--basket-scale", "4", "--dirt-rate", "0")


def _orders(landing: Path) -> pd.DataFrame:
    orders = pd.concat(pd.read_csv(f) for f in sorted(landing.glob("orders/*.csv")))
    orders = orders.drop_duplicates("order_id", keep="last")
    orders = orders[orders["status"].str.strip().str.lower() == "completed"].copy()
    orders["date"] = pd.to_datetime(orders["ordered_at"]).dt.date
    return orders


def build(workdir: Path, customers: int, days: int, holdout_days: int) -> dict[str, object]:
    """Generate the shop and run the pipeline as of `holdout_days` before its last order."""
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    args = ["generate", "--out", "landing", "--customers", str(customers), "--days", str(days)]
    _segmint(*args, *SHOP, cwd=workdir)
    as_of = max(_orders(workdir / "landing")["date"]) - timedelta(days=holdout_days)
    t1 = time.perf_counter()
    os.environ.setdefault("SEGMINT_FORECAST_LEVELS", "total,category")
    os.environ["SEGMINT_FORECAST_HORIZON_DAYS"] = str(holdout_days)
    _segmint(
        "run", "--landing", "landing", "--warehouse", "warehouse/segmint.duckdb",
        "--as-of", as_of.isoformat(), cwd=workdir,
    )  # fmt: skip
    t2 = time.perf_counter()
    return {"as_of": as_of.isoformat(), "generate_s": round(t1 - t0, 1), "run_s": round(t2 - t1, 1)}


def _as_of(published: Path) -> str:
    with duckdb.connect(str(published), read_only=True) as con:
        return str(con.execute("select max(order_date) from marts.fct_orders").fetchone()[0])


def forecast_vs_truth(workdir: Path) -> dict[str, object]:
    """The total-orders forecast over its horizon next to the distinct orders that came."""
    published = workdir / "warehouse" / "published.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        fc = con.execute(
            "select cast(ds as date) d, yhat, yhat_lower, yhat_upper from ml.demand_forecasts "
            "where series_key = 'total' order by d"
        ).df()
        history = con.execute(
            "select o.demand_date, o.orders, d.per_department from "
            "(select demand_date, sum(orders) orders from marts.daily_orders group by 1) o join "
            "(select demand_date, sum(orders) per_department from marts.daily_demand group by 1) d "
            "using (demand_date)"
        ).df()
    truth = _orders(workdir / "landing").groupby("date")["order_id"].nunique()
    fc["truth"] = fc["d"].map(truth).fillna(0).astype(int)
    inside = ((fc["truth"] >= fc["yhat_lower"]) & (fc["truth"] <= fc["yhat_upper"])).mean()
    return {
        "horizon_days": len(fc),
        "truth_orders": int(fc["truth"].sum()),
        "forecast_orders": round(float(fc["yhat"].sum()), 1),
        "forecast_error_pct": round(float(fc["yhat"].sum() / fc["truth"].sum() * 100 - 100), 2),
        "daily_mae": round(float((fc["yhat"] - fc["truth"]).abs().mean()), 2),
        "interval_coverage": round(float(inside), 3),
        "history_orders": int(history["orders"].sum()),
        "history_per_department_sum": int(history["per_department"].sum()),
        "old_total_inflation": round(
            float(history["per_department"].sum() / history["orders"].sum()), 2
        ),
        "days": [
            {k: (str(v) if k == "d" else round(float(v), 1)) for k, v in row.items()}
            for row in fc.to_dict(orient="records")
        ],
    }


def _markdown(out: dict) -> str:
    f = out["forecast"]
    lines = [
        f"Shop: {out['shop']}; as of {out['as_of']}.",
        "",
        "| month | truth EUR | published EUR | daily_demand EUR |",
        "|---|---|---|---|",
        *(
            f"| {r['month']} | {r['truth_eur']} | {r['published_eur']} | {r['daily_demand_eur']} |"
            for r in out["months"]
        ),
        "",
        f"Total orders over the {f['horizon_days']}-day horizon: truth {f['truth_orders']:,}, "
        f"forecast {f['forecast_orders']:,} ({f['forecast_error_pct']:+}%), daily MAE "
        f"{f['daily_mae']}, 80% interval coverage {f['interval_coverage']:.0%}.",
        f"History: {f['history_orders']:,} distinct orders; summing per-department counts "
        f"(the old total) gives {f['history_per_department_sum']:,} "
        f"({f['old_total_inflation']}x).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/segmint-basket-orders"))
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--holdout-days", type=int, default=28)
    args = parser.parse_args()
    published = args.workdir / "warehouse" / "published.duckdb"
    timings = (
        {}
        if published.exists()
        else build(args.workdir, args.customers, args.days, args.holdout_days)
    )
    table = truth_by_month(args.workdir / "landing").join(published_by_month(published))
    as_of = timings.get("as_of") or _as_of(published)
    table = table[table.index < as_of[:7]]  # whole months before the as-of date's
    months = [
        {
            "month": m,
            "truth_eur": str(Decimal(r["truth_eur"])),
            "published_eur": str(r["published"]),
            "daily_demand_eur": str(r["daily_demand"]),
        }
        for m, r in table.sort_index().iterrows()
    ]
    out = {
        "shop": {"customers": args.customers, "days": args.days, "options": " ".join(SHOP)},
        "timings": timings,
        "as_of": as_of,
        "months": months,
        "forecast": forecast_vs_truth(args.workdir),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "basket_orders.json").write_text(json.dumps(out, indent=2) + "\n")
    md = _markdown(out)
    (RESULTS / "basket_orders.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
