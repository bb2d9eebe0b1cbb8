"""Scale benchmark of the whole pipeline: per-stage wall time and peak memory, the SQL floor,
an incremental daily run and S0 -> S1 scaling (`make bench` / `python -m benchmarks`).

For each scale it
  1. generates sample data (S0 = 10k customers, S1 = 100k, S2 = 1M on request),
  2. runs the whole pipeline (`segmint run`: ingest -> dbt -> checks -> models -> targeting
     -> exports -> publish) in a child process, sampling the RSS of that process tree every
     0.2 s; stage boundaries come from the run's Dagster event log (STEP_START /
     STEP_SUCCESS), so each stage gets its own wall time and peak memory,
  3. runs benchmarks/floor.sql (customer_360 and daily_demand by hand, one DuckDB
     connection) on a copy of the built warehouse and checks it agrees with dbt's marts,
  4. lands one more day of orders, order lines and events for existing customers and runs
     the scheduled pipeline again (the incremental daily run).
Results go to benchmarks/results/pipeline.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.monitor import Measured, run_monitored

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
FLOOR_SQL = REPO / "benchmarks" / "floor.sql"
MANIFEST = REPO / "dbt_project" / "target" / "manifest.json"


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    days: int = 730


SCALES = {
    "S0": Scale("S0", 10_000),  # ~1.1M events
    "S1": Scale("S1", 100_000),  # ~11M events (the standard scale)
    "S2": Scale("S2", 1_000_000),  # ~110M events: only on request (--scales S2)
}

# Report order of the stages; every Dagster step maps to one of them (see stage_of).
STAGES = (
    "generate",
    "ingest",
    "dbt",
    "checks",
    "segmentation",
    "churn",
    "forecast",
    "targeting",
    "export",
    "publish",
)

TARGETS = {
    "s1_pipeline_seconds": 90.0,
    "s1_peak_mb": 4096.0,
    "s1_incremental_peak_mb": 4096.0,
    "dbt_floor_ratio": 1.5,
    "incremental_share": 0.10,
    "s1_s0_time_ratio": 10.0,
}

VERSIONED = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "dagster",
    "dagster-dbt",
    "prophet",
    "scikit-learn",
    "great-expectations",
    "pandas",
    "pyarrow",
)


# ------------------------------------------------------------------------------- helpers
def stage_of(step_key: str) -> str:
    """The report stage of a Dagster step key."""
    if step_key == "raw_tables":
        return "ingest"
    if "_gx_" in step_key or step_key.startswith("gx_"):
        return "checks"
    if step_key == "dbt_models":
        return "dbt"
    if step_key == "dbt_targeting":
        return "targeting"
    if "forecast" in step_key:
        return "forecast"
    if "segment" in step_key:
        return "segmentation"
    if "churn" in step_key:
        return "churn"
    if step_key.startswith("activation") or "audience" in step_key or "holdout" in step_key:
        return "export"
    if step_key.startswith("publish"):
        return "publish"
    return f"other:{step_key}"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for dist in VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(ram, 1),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
    # The child reads only the settings the benchmark passes (no stray SEGMINT_* paths).
    for key in ("SEGMINT_WAREHOUSE", "SEGMINT_PUBLISHED", "SEGMINT_LANDING", "SEGMINT_EXPORTS"):
        env.pop(key, None)
    return env


def _child(args: list[str], workdir: Path, log: Path) -> tuple[Measured, dict[str, Any]]:
    """Run `python -m benchmarks.child ARGS` under the memory monitor; return its result."""
    result = workdir / f"result-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "benchmarks.child", *args, "--result", str(result)]
    measured = run_monitored(cmd, env=_child_env(), cwd=workdir, log=log)
    if measured.returncode != 0 or not result.exists():
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"{' '.join(args[:1])} failed (exit {measured.returncode}):\n{tail}")
    data = json.loads(result.read_text())
    result.unlink()
    return measured, data


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# ------------------------------------------------------------------------------- stages
def generate_data(scale: Scale, landing: Path, workdir: Path, log: Path) -> dict[str, Any]:
    args = ["generate", "--out", str(landing), "--customers", str(scale.customers)]
    args += ["--days", str(scale.days)]
    measured, data = _child(args, workdir, log)
    sizes = {
        d.name: sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        for d in sorted(landing.iterdir())
        if d.is_dir()
    }
    return {
        "seconds": round(measured.seconds, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "rows": data["rows"],
        "bytes": sizes,
        "total_bytes": sum(sizes.values()),
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


def run_pipeline_measured(root: Path, landing: Path, workdir: Path, log: Path) -> dict[str, Any]:
    """One `segmint run` in a child process: per-stage wall time and peak tree RSS."""
    measured, data = _child(["run", "--root", str(root), "--landing", str(landing)], workdir, log)
    if not data["success"]:
        raise RuntimeError(f"pipeline run failed: {data['error']}")
    stages: dict[str, dict[str, Any]] = {}
    steps = []
    for key, step in sorted(data["steps"].items(), key=lambda kv: kv[1]["start"]):
        start, end = step["start"], step["end"] or step["start"]
        name = stage_of(key)
        peak = measured.peak_mb(start, end)
        cpu = measured.cpu_between(start, end)
        steps.append(
            {
                "step": key,
                "stage": name,
                "seconds": round(end - start, 2),
                "cpu_seconds": cpu,
                "peak_mb": peak,
            }
        )
        agg = stages.setdefault(
            name, {"seconds": 0.0, "cpu_seconds": 0.0, "peak_mb": 0.0, "steps": 0}
        )
        agg["seconds"] += end - start
        agg["cpu_seconds"] += cpu
        agg["peak_mb"] = max(agg["peak_mb"], peak)
        agg["steps"] += 1
    for agg in stages.values():
        agg["seconds"] = round(agg["seconds"], 2)
        agg["cpu_seconds"] = round(agg["cpu_seconds"], 2)
    in_steps = sum(s["seconds"] for s in steps)
    return {
        "seconds": round(measured.seconds, 2),  # child wall: imports + definitions + run
        "run_seconds": round(data["seconds"], 2),  # execute_in_process wall (RunSummary)
        "overhead_seconds": round(measured.seconds - in_steps, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "stages": stages,
        "steps": steps,
        "dbt_nodes": data["dbt_nodes"],
        "failed_checks": data["failed_checks"],
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


# ------------------------------------------------------------------------------- floor
def _common_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        """
        select d.column_name, d.data_type
        from information_schema.columns as d
        inner join information_schema.columns as f
            on d.column_name = f.column_name
            and f.table_schema = 'floor' and f.table_name = 'customer_360'
        where d.table_schema = 'marts' and d.table_name = 'customer_360'
        order by d.ordinal_position
        """
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def compare_floor(path: Path) -> dict[str, Any]:
    """Do floor.* and dbt's marts.* agree? Totals plus a per-column mismatch count."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        totals_sql = """
            select count(*), round(sum(monetary), 2), sum(frequency), sum(sessions_30d),
                   count(rfm_class), round(sum(historical_clv), 2)
            from {}.customer_360
        """
        keys = ["rows", "sum_monetary", "sum_frequency", "sum_sessions_30d", "rfm_classified"]
        keys.append("sum_historical_clv")
        dbt_c = dict(zip(keys, con.execute(totals_sql.format("marts")).fetchone(), strict=True))
        flo_c = dict(zip(keys, con.execute(totals_sql.format("floor")).fetchone(), strict=True))
        demand_sql = """
            select count(*), round(sum(revenue), 2), sum(orders), sum(units) from {}.daily_demand
        """
        dkeys = ["rows", "sum_revenue", "sum_orders", "sum_units"]
        dbt_d = dict(zip(dkeys, con.execute(demand_sql.format("marts")).fetchone(), strict=True))
        flo_d = dict(zip(dkeys, con.execute(demand_sql.format("floor")).fetchone(), strict=True))
        cols = _common_columns(con)
        diffs = []
        for name, dtype in cols:
            if name == "customer_id":
                continue
            q = f'"{name}"'
            if dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
                cond = (
                    f"(d.{q} is null) <> (f.{q} is null) or abs(d.{q} - f.{q}) > "
                    f"1e-6 * greatest(1, abs(d.{q}))"
                )
            else:
                cond = f"d.{q} is distinct from f.{q}"
            diffs.append(f"count(*) filter (where {cond}) as {q}")
        mismatches = con.execute(
            f"""
            select count(*) filter (where f.customer_id is null) as missing_in_floor,
                   {", ".join(diffs)}
            from marts.customer_360 as d
            full join floor.customer_360 as f on d.customer_id = f.customer_id
            """
        ).fetchone()
        names = ["missing_in_floor"] + [n for n, _ in cols if n != "customer_id"]
        mismatch = {n: int(v) for n, v in zip(names, mismatches, strict=True) if v}
        dbt_only = [
            r[0]
            for r in con.execute(
                """
                select column_name from information_schema.columns
                where table_schema = 'marts' and table_name = 'customer_360'
                except
                select column_name from information_schema.columns
                where table_schema = 'floor' and table_name = 'customer_360'
                """
            ).fetchall()
        ]
    finally:
        con.close()
    agree = dbt_c == flo_c and dbt_d == flo_d and not mismatch and not dbt_only
    return {
        "agree": agree,
        "customer_360": {"dbt": dbt_c, "floor": flo_c},
        "daily_demand": {"dbt": dbt_d, "floor": flo_d},
        "columns_compared": len(cols),
        "mismatched_rows_by_column": mismatch,
        "columns_missing_in_floor": dbt_only,
    }


def run_floor(warehouse: Path, workdir: Path, log: Path) -> dict[str, Any]:
    """floor.sql on a copy of the built warehouse (raw.* as ingested, marts.* for comparison)."""
    copy = workdir / "warehouse_for_floor.duckdb"
    shutil.copyfile(warehouse, copy)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    args = ["floor", "--warehouse", str(copy), "--sql", str(FLOOR_SQL)]
    measured, data = _child(args, workdir, log)
    agreement = compare_floor(copy)
    copy.unlink()
    return {
        "seconds": round(data["ended"] - data["started"], 2),
        "process_seconds": round(measured.seconds, 2),
        "cpu_seconds": measured.cpu_seconds,
        "peak_mb": measured.peak_mb(),
        "agreement": agreement,
        "load_start": list(measured.load_start),
        "load_end": list(measured.load_end),
    }


# ------------------------------------------------------------------------------- dbt profile
def _manifest_nodes() -> dict[str, set[str]]:
    """Asset keys (schema/name) of dbt nodes by role, from the parsed manifest.

    "customer_360" / "daily_demand": that mart and every model upstream of it (what the floor
    replaces); "dbt_models": the nodes the dbt_models step builds (models, snapshot; no
    targeting).
    """
    if not MANIFEST.exists():
        return {}
    manifest = json.loads(MANIFEST.read_text())
    nodes = manifest.get("nodes", {})
    parents = manifest.get("parent_map", {})

    def key(uid: str) -> str:
        return f"{nodes[uid]['schema']}/{nodes[uid]['name']}"

    out: dict[str, set[str]] = {}
    for target in ("customer_360", "daily_demand"):
        seen: set[str] = set()
        todo = [f"model.segmint.{target}"]
        while todo:
            uid = todo.pop()
            if uid in seen:
                continue
            seen.add(uid)
            todo.extend(parents.get(uid, []))
        out[target] = {
            key(u) for u in seen if u in nodes and nodes[u].get("resource_type") == "model"
        }
    out["dbt_models"] = {
        key(uid)
        for uid, node in nodes.items()
        if node.get("resource_type") in ("model", "seed", "snapshot")
        and "activation" not in node.get("fqn", [])
        and "audience" not in node.get("tags", [])
    }
    return out


def dbt_profile(run: dict[str, Any]) -> dict[str, Any]:
    """Per-model seconds (dbt's own timing) and what the dbt step spends outside models."""
    groups = _manifest_nodes()
    in_step = groups.get("dbt_models")
    nodes = {k: v for k, v in run["dbt_nodes"].items() if in_step is None or k in in_step}
    dbt_step = run["stages"].get("dbt", {}).get("seconds", 0.0)
    models_total = sum(nodes.values())
    needed = groups.get("customer_360", set()) | groups.get("daily_demand", set())
    return {
        "dbt_step_seconds": dbt_step,
        "models_seconds": round(models_total, 2),
        "tests_and_overhead_seconds": round(dbt_step - models_total, 2),
        "floor_lineage_models_seconds": round(sum(v for k, v in nodes.items() if k in needed), 2),
        "top_models": [
            {"model": k, "seconds": round(v, 2)}
            for k, v in sorted(nodes.items(), key=lambda kv: -kv[1])[:10]
        ],
    }


# ------------------------------------------------------------------------------- incremental
def incremental_models() -> list[tuple[str, str]]:
    if not MANIFEST.exists():
        return []
    nodes = json.loads(MANIFEST.read_text()).get("nodes", {})
    return [
        (n["schema"], n["name"])
        for n in nodes.values()
        if n.get("resource_type") == "model"
        and n.get("config", {}).get("materialized") == "incremental"
    ]


def age_loads(warehouse: Path, days: int = 7) -> dict[str, int]:
    """Pretend the history was loaded `days` ago (before dbt's incremental lookback).

    The full build loads years of history at once, so right after it every row is "recent"
    and an incremental run would reprocess everything. A nightly run in steady state sees
    yesterday's file as the only new load: shift `_loaded_at` of the raw tables and of the
    incremental models' tables back consistently so the next run sees exactly that.
    """
    con = duckdb.connect(str(warehouse))
    shifted: dict[str, int] = {}
    try:
        raw_tables = con.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = '_loaded_at' and table_schema = 'raw'"
        ).fetchall()
        for schema, name in [*raw_tables, *incremental_models()]:
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ? and table_type = 'BASE TABLE'",
                [schema, name],
            ).fetchone()[0]
            if not exists:
                continue
            n = con.execute(
                f'update "{schema}"."{name}" set _loaded_at = _loaded_at - interval {int(days)} day'
            ).fetchone()[0]
            shifted[f"{schema}.{name}"] = int(n)
    finally:
        con.close()
    return shifted


def land_next_day(warehouse: Path, landing: Path) -> dict[str, Any]:
    """Write one more day of orders, order_items and events for existing customers.

    The new day is the day after the data's last order: the last day's orders, lines and
    events are replayed one day later under new ids (same customers, products, sessions
    structure), so the files are valid per the contract and look like a real next day.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        last = con.execute("select max(cast(ordered_at as date)) from raw.orders").fetchone()[0]
        if last is None:
            raise RuntimeError("no orders to extend")
        day = last.isoformat()
        suffix = "_d" + last.strftime("%Y%m%d")
        outputs = {
            "orders": f"""
                select order_id || '{suffix}' as order_id, customer_id,
                       ordered_at + interval 1 day as ordered_at, status, channel, store_region,
                       total_amount, discount_amount, currency
                from raw.orders
                where cast(ordered_at as date) = date '{day}' and customer_id is not null
                qualify row_number() over (partition by order_id order by _loaded_at desc) = 1
            """,
            "order_items": f"""
                select i.order_id || '{suffix}' as order_id, i.product_id, i.quantity,
                       i.unit_price, i.discount_amount
                from raw.order_items as i
                where i.order_id in (
                    select order_id from raw.orders
                    where cast(ordered_at as date) = date '{day}' and customer_id is not null
                )
                qualify row_number() over (
                    partition by i.order_id, i.product_id order by i._loaded_at desc
                ) = 1
            """,
            "events": f"""
                select event_id || '{suffix}' as event_id, occurred_at + interval 1 day
                           as occurred_at,
                       event_type, customer_id, anonymous_id,
                       case when session_id is not null then session_id || '{suffix}' end
                           as session_id,
                       product_id, device, channel, properties
                from raw.events
                where cast(occurred_at as date) = date '{day}'
                qualify row_number() over (partition by event_id order by _loaded_at desc) = 1
            """,
        }
        rows = {}
        for table, sql in outputs.items():
            folder = landing / table
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{table}_day{suffix}.csv"
            con.execute(f"copy ({sql}) to '{target}' (header, delimiter ',')")
            rows[table] = con.execute(f"select count(*) from read_csv('{target}')").fetchone()[0]
    finally:
        con.close()
    return {"day": (last + timedelta(days=1)).isoformat(), "rows": rows}


# ------------------------------------------------------------------------------- per scale
def bench_scale(
    scale: Scale, workdir: Path, *, floor: bool, incremental: bool, log: Path
) -> dict[str, Any]:
    root = workdir / scale.name
    if root.exists():
        shutil.rmtree(root)
    landing = root / "landing"
    landing.mkdir(parents=True)
    warehouse = root / "warehouse" / "segmint.duckdb"
    print(f"[{scale.name}] generating {scale.customers} customers x {scale.days} days", flush=True)
    out: dict[str, Any] = {"scale": scale.name, "customers": scale.customers, "days": scale.days}
    out["generate"] = generate_data(scale, landing, root, log)
    print(f"[{scale.name}] generate {out['generate']['seconds']}s; running pipeline", flush=True)
    run = run_pipeline_measured(root, landing, root, log)
    out["pipeline"] = run
    out["dbt_profile"] = dbt_profile(run)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out["raw_rows"] = {
            t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
            for t in ("customers", "products", "orders", "order_items", "events")
        }
    finally:
        con.close()
    out["warehouse_bytes"] = warehouse.stat().st_size
    print(f"[{scale.name}] pipeline {run['seconds']}s, peak {run['peak_mb']} MiB", flush=True)
    if floor:
        out["floor"] = run_floor(warehouse, root, log)
        dbt_s = run["stages"]["dbt"]["seconds"]
        out["floor"]["dbt_ratio"] = round(dbt_s / out["floor"]["seconds"], 2)
        lineage_s = out["dbt_profile"]["floor_lineage_models_seconds"]
        out["floor"]["lineage_models_ratio"] = round(lineage_s / out["floor"]["seconds"], 2)
        print(
            f"[{scale.name}] floor {out['floor']['seconds']}s "
            f"(dbt/floor {out['floor']['dbt_ratio']}x, agree={out['floor']['agreement']['agree']})",
            flush=True,
        )
    if incremental:
        aged = age_loads(warehouse)
        landed = land_next_day(warehouse, landing)
        inc = run_pipeline_measured(root, landing, root, log)
        inc["landed"] = landed
        inc["aged_tables"] = aged
        inc["share_of_full"] = round(inc["seconds"] / run["seconds"], 3)
        out["incremental"] = inc
        print(
            f"[{scale.name}] incremental {inc['seconds']}s "
            f"({100 * inc['share_of_full']:.1f}% of the full run)",
            flush=True,
        )
    shutil.rmtree(root / "landing", ignore_errors=True)
    return out


# ------------------------------------------------------------------------------- report
def summarize(scales: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Ratios and target checks across scales."""
    summary: dict[str, Any] = {}
    s0, s1 = scales.get("S0"), scales.get("S1")
    if s0 and s1:
        summary["s1_s0_time_ratio"] = round(
            s1["pipeline"]["seconds"] / s0["pipeline"]["seconds"], 2
        )
        summary["s1_s0_cpu_ratio"] = round(
            s1["pipeline"]["cpu_seconds"] / s0["pipeline"]["cpu_seconds"], 2
        )
        summary["s1_s0_memory_ratio"] = round(
            s1["pipeline"]["peak_mb"] / s0["pipeline"]["peak_mb"], 2
        )
        summary["s1_s0_events_ratio"] = round(
            s1["raw_rows"]["events"] / max(1, s0["raw_rows"]["events"]), 2
        )
        summary["s1_s0_stage_time_ratios"] = {
            st: round(
                s1["pipeline"]["stages"][st]["seconds"] / s0["pipeline"]["stages"][st]["seconds"], 2
            )
            for st in s1["pipeline"]["stages"]
            if st in s0["pipeline"]["stages"] and s0["pipeline"]["stages"][st]["seconds"] > 0
        }
    checks: dict[str, dict[str, Any]] = {}
    if s1:
        checks["s1_pipeline_seconds"] = {"value": s1["pipeline"]["seconds"]}
        checks["s1_peak_mb"] = {"value": s1["pipeline"]["peak_mb"]}
        if "floor" in s1:
            checks["dbt_floor_ratio"] = {"value": s1["floor"]["dbt_ratio"]}
        if "incremental" in s1:
            checks["incremental_share"] = {"value": s1["incremental"]["share_of_full"]}
            checks["s1_incremental_peak_mb"] = {"value": s1["incremental"]["peak_mb"]}
    if "s1_s0_time_ratio" in summary:
        checks["s1_s0_time_ratio"] = {"value": summary["s1_s0_time_ratio"]}
    for key, check in checks.items():
        check["target"] = TARGETS[key]
        check["met"] = check["value"] <= TARGETS[key]
    summary["targets"] = checks
    return summary


def _fmt_s(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _cpu_ratio_floor(sc: dict[str, Any]) -> str:
    return f"{sc['pipeline']['stages']['dbt']['cpu_seconds'] / sc['floor']['cpu_seconds']:.1f}x"


def _cpu_share_incremental(sc: dict[str, Any]) -> str:
    return f"{100 * sc['incremental']['cpu_seconds'] / sc['pipeline']['cpu_seconds']:.1f}%"


def _load_span(sc: dict[str, Any]) -> str:
    p = sc["pipeline"]
    return f"{p['load_start'][0]:.1f} → {p['load_end'][0]:.1f}"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    scales = report["scales"]
    names = list(scales)
    lines = [
        "# Pipeline benchmark",
        "",
        f"{report['date']} · {m['nproc']} cores ({m['cpu_model']}) · {m['ram_gb']} GiB RAM · "
        f"Python {m['python']}",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        "",
        "Per stage: wall seconds, CPU seconds (user + system of the whole process tree: less",
        "sensitive to other load on the machine) and peak RSS of the whole process tree (MiB).",
        "`pipeline` is `segmint run` on landed files (ingest → publish); `total` adds generation.",
        "",
        "| stage | " + " | ".join(f"{n} wall s | {n} CPU s | {n} peak MiB" for n in names) + " |",
        "|---|" + "---:|---:|---:|" * len(names),
    ]

    def cells(st: dict[str, Any] | None) -> list[str]:
        if not st:
            return ["–", "–", "–"]
        return [_fmt_s(st["seconds"]), _fmt_s(st.get("cpu_seconds")), _fmt_s(st["peak_mb"])]

    extra = sorted({s for n in names for s in scales[n]["pipeline"]["stages"] if s not in STAGES})
    for stage in [*STAGES, *extra]:
        row: list[str] = []
        for n in names:
            sc = scales[n]
            row += cells(
                sc["generate"] if stage == "generate" else sc["pipeline"]["stages"].get(stage)
            )
        lines.append(f"| {stage} | " + " | ".join(row) + " |")
    row = []
    for n in names:
        row += [_fmt_s(scales[n]["pipeline"]["overhead_seconds"]), "", ""]
    lines.append("| dagster/process overhead | " + " | ".join(row) + " |")
    row = []
    for n in names:
        p = scales[n]["pipeline"]
        row += [f"**{p['seconds']:.1f}**", _fmt_s(p.get("cpu_seconds")), f"**{p['peak_mb']:.0f}**"]
    lines.append("| **pipeline** | " + " | ".join(row) + " |")
    row = []
    for n in names:
        sc = scales[n]
        total = sc["generate"]["seconds"] + sc["pipeline"]["seconds"]
        cpu = (sc["generate"].get("cpu_seconds") or 0) + (sc["pipeline"].get("cpu_seconds") or 0)
        peak = max(sc["generate"]["peak_mb"], sc["pipeline"]["peak_mb"])
        row += [f"{total:.1f}", f"{cpu:.1f}", f"{peak:.0f}"]
    lines.append("| total (with generate) | " + " | ".join(row) + " |")
    lines += ["", "## Floor, incremental, data", "", "| | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---:|" * len(names))

    def add(label: str, fn: Any) -> None:
        vals = []
        for n in names:
            try:
                vals.append(fn(scales[n]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("–")
        lines.append(f"| {label} | " + " | ".join(str(v) for v in vals) + " |")

    add("floor.sql seconds", lambda s: s["floor"]["seconds"])
    add("floor peak MiB", lambda s: s["floor"]["peak_mb"])
    add("dbt stage / floor", lambda s: f"{s['floor']['dbt_ratio']}x")
    add(
        "dbt models feeding the two marts / floor",
        lambda s: f"{s['floor']['lineage_models_ratio']}x",
    )
    add("dbt stage / floor, CPU seconds", _cpu_ratio_floor)
    add("floor agrees with dbt", lambda s: s["floor"]["agreement"]["agree"])
    add("dbt step: models s", lambda s: s["dbt_profile"]["models_seconds"])
    add("dbt step: tests + overhead s", lambda s: s["dbt_profile"]["tests_and_overhead_seconds"])
    add("incremental daily run s", lambda s: s["incremental"]["seconds"])
    add("incremental / full", lambda s: f"{100 * s['incremental']['share_of_full']:.1f}%")
    add("incremental / full, CPU seconds", _cpu_share_incremental)
    add("incremental peak MiB", lambda s: s["incremental"]["peak_mb"])
    for t in ("customers", "orders", "order_items", "events"):
        add(f"rows raw.{t}", lambda s, t=t: f"{s['raw_rows'][t]:,}")
    add("landing bytes", lambda s: f"{s['generate']['total_bytes'] / 2**20:.0f} MiB")
    add("warehouse bytes", lambda s: f"{s['warehouse_bytes'] / 2**20:.0f} MiB")
    add("load avg (1 min) start → end of run", _load_span)
    summary = report["summary"]
    if summary.get("targets"):
        lines += ["", "## Targets", "", "| target | value | limit | met |", "|---|---:|---:|---|"]
        for key, c in summary["targets"].items():
            lines.append(
                f"| {key} | {c['value']} | {c['target']} | {'yes' if c['met'] else 'NO'} |"
            )
    if "s1_s0_time_ratio" in summary:
        lines += [
            "",
            f"S1/S0: wall time {summary['s1_s0_time_ratio']}x, CPU time "
            f"{summary['s1_s0_cpu_ratio']}x, memory "
            f"{summary['s1_s0_memory_ratio']}x, events {summary['s1_s0_events_ratio']}x.",
        ]
    for n in names:
        prof = scales[n]["dbt_profile"]["top_models"][:6]
        if prof:
            lines += ["", f"Slowest dbt models at {n}: " + ", ".join(
                f"{p['model']} {p['seconds']:.1f}s" for p in prof)]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--scales", default="S0,S1", help="comma list of S0, S1, S2 (default S0,S1)")
    ap.add_argument("--customers", type=int, help="one custom scale instead (e.g. a smoke run)")
    ap.add_argument("--days", type=int, default=730, help="days of history of a custom scale")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor.sql comparison")
    ap.add_argument("--no-incremental", action="store_true", help="skip the daily run")
    ap.add_argument("--workdir", type=Path, help="where data and warehouses go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder for pipeline.{json,md}")
    ap.add_argument(
        "--render",
        action="store_true",
        help="only re-derive the summary and pipeline.md from an existing pipeline.json",
    )
    args = ap.parse_args(argv)

    if args.render:
        report = json.loads((args.results / "pipeline.json").read_text())
        for scale in report["scales"].values():
            scale["dbt_profile"] = dbt_profile(scale["pipeline"])
            if "floor" in scale:
                lineage_s = scale["dbt_profile"]["floor_lineage_models_seconds"]
                scale["floor"]["lineage_models_ratio"] = round(
                    lineage_s / scale["floor"]["seconds"], 2
                )
        return write_report(report, args.results)

    if args.customers:
        chosen = [Scale("custom", args.customers, args.days)]
    else:
        chosen = []
        for name in filter(None, (s.strip().upper() for s in args.scales.split(","))):
            if name not in SCALES:
                ap.error(f"unknown scale {name!r} (choose from {', '.join(SCALES)})")
            chosen.append(SCALES[name])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "bench.log"
    print(f"work folder {workdir} (log: {log})", flush=True)
    report: dict[str, Any] = {
        "benchmark": "pipeline",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_start": _load(),
        "targets": TARGETS,
        "scales": {},
    }
    try:
        for scale in chosen:
            report["scales"][scale.name] = bench_scale(
                scale, workdir, floor=not args.no_floor, incremental=not args.no_incremental,
                log=log,
            )  # fmt: skip
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_end"] = _load()
    return write_report(report, args.results)


def write_report(report: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Add the cross-scale summary, write pipeline.json and pipeline.md, print the table."""
    report["summary"] = summarize(report["scales"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(report)
    (folder / "pipeline.md").write_text(md)
    print(md)
    return report


if __name__ == "__main__":
    main()
