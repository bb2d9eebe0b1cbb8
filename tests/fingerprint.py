"""The golden fingerprint of a seeded run: what a refactor must not change.

A fingerprint is, per base table of `marts` and `ml`, its row count, an order-independent
checksum of whole rows and one per column (tests/runs.py rules: wall-clock columns left
out, doubles to DIGITS significant digits), and the metrics every model recorded in
`ml.model_runs`. The per-column checksums only say *where* a table differs.

The golden file `tests/golden/fingerprint.json` is written from a fresh run of the shared
test sample (tests/conftest.py SAMPLE and TEST_ENV):

    .venv/bin/python -m tests.fingerprint write --why "what changed on purpose, and why"

Every rewrite appends its reason to the file's `changes`, so a deliberate change of an
output is visible in review; `tests/integration/test_golden_fingerprint.py` compares the
shared run (`twice`) with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from tests.runs import RUNTIME_COLUMNS, _strip

GOLDEN = Path(__file__).resolve().parent / "golden" / "fingerprint.json"
SCHEMAS = ("marts", "ml")
# Metrics are compared to this absolute tolerance (the "within 1e-9") or, for large
# values, this relative one.
METRIC_TOLERANCE = 1e-9
METRIC_REL_TOLERANCE = 2e-8
# Significant digits of doubles and JSON floats. The golden file is compared on other
# machines (CI): numpy and OpenBLAS pick kernels by CPU (AVX-512, AVX2, ...) and their sums
# differ in the last bits, so 9 digits, right on one machine, is too fine across machines
# (checked by running `check` with OPENBLAS_CORETYPE=Sandybridge and numpy's SIMD off).
DIGITS = 6
# Labels derived from the code itself (a hash of the model modules' source): any edit to a
# model's code changes them while every output stays the same, so they are not compared.
CODE_LABELS = frozenset({"model_version", "code_version", "challenger_version", "champion_version"})
LEFT_OUT = RUNTIME_COLUMNS | CODE_LABELS
# Prophet's fits are reproducible on one machine but not across CPUs (cmdstan's L-BFGS
# amplifies last-bit differences of the BLAS kernels numpy picks for the CPU: measured
# 0.2% on a backtest MASE between two machines). The forecasts' numbers are left out of
# the checksums (their rows are still counted) and the forecast's metrics are compared to
# a relative tolerance. Runs on one machine compare them exactly (tests/runs.py).
# The customer-value MAP fit (PyTensor C code built for the machine's CPU) gets the same
# treatment: bit-reproducible on one machine (tests/reliability/test_idempotency.py), not
# promised across CPUs.
VALUE_COLUMNS = frozenset(
    {
        "p_alive", "expected_purchases_90d", "expected_avg_order_value", "predicted_revenue_90d",
        "predicted_revenue_365d", "predicted_revenue_90d_lower", "predicted_revenue_90d_upper",
    }
)  # fmt: skip
CROSS_MACHINE_COLUMNS = {
    "ml.demand_forecasts": frozenset({"yhat", "yhat_lower", "yhat_upper"}),
    "ml.customer_value": VALUE_COLUMNS,
    "marts.customer_targeting": VALUE_COLUMNS,
    "ml.forecast_backtests": frozenset({"mae", "mase", "smape"}),
    # Calibrated chances from implicit's ALS factors (BLAS): up to 3e-5 apart between CPU
    # kernels; the ranks, products and kinds are compared and were identical.
    "ml.recommendations": frozenset({"score"}),
    # Each model's metrics and champion decision (which quotes the metrics) are compared
    # below, each to its model's tolerance.
    "ml.model_runs": frozenset({"metrics", "baseline_metrics", "decision"}),
}
# Relative tolerance of these models' metrics.
CROSS_MACHINE_MODELS = {"demand_forecast": 0.02, "customer_value": 0.01}


def _strip_labels(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_labels(v) for k, v in value.items() if k not in CODE_LABELS}
    if isinstance(value, list):
        return [_strip_labels(v) for v in value]
    return value


def _column_expr(name: str, type_: str) -> str:
    ref = f'"{name}"'
    if type_ == "JSON":
        ref = f"json_strip_timings({ref})"
    if type_ in ("DOUBLE", "FLOAT", "REAL"):
        ref = f"round({ref}, {DIGITS} - cast(ceil(log10(abs({ref}) + 1e-300)) as int))"
    return f"coalesce(cast({ref} as varchar), '<null>')"


def _digest(con: duckdb.DuckDBPyConnection, expr: str, relation: str) -> str:
    rows = con.execute(f"select md5({expr}) as h from {relation} order by h").fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def _strip_timings(text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(_strip_labels(_strip(json.loads(text), DIGITS)), sort_keys=True)


def _metrics(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Each model's metrics, baseline metrics and decision, timings stripped, of its latest
    run."""
    has = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ml' and table_name = 'model_runs'"
    ).fetchone()[0]
    if not has:
        return {}
    cols = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'ml' and table_name = 'model_runs'"
        ).fetchall()
    }
    wanted = [c for c in ("metrics", "baseline_metrics", "decision") if c in cols]
    rows = con.execute(
        f"select model, {', '.join(wanted)} from ml.model_runs "
        "qualify row_number() over (partition by model order by trained_at desc) = 1 "
        "order by model"
    ).fetchall()
    out: dict[str, object] = {}
    for model, *values in rows:
        out[model] = {
            name: _strip_labels(_strip(json.loads(v), DIGITS)) if isinstance(v, str) and v else v
            for name, v in zip(wanted, values, strict=True)
        }
    return out


def fingerprint(db: Path, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, object]:
    """Row counts and checksums of every table of `schemas`, and the model metrics."""
    tables: dict[str, object] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        con.create_function(
            "json_strip_timings", _strip_timings, ["VARCHAR"], "VARCHAR", null_handling="special"
        )
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in ({','.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in names:
            relation = f'"{schema}"."{table}"'
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() and table_schema = ? "
                "and table_name = ? order by column_name",
                [schema, table],
            ).fetchall()
            left_out = LEFT_OUT | CROSS_MACHINE_COLUMNS.get(f"{schema}.{table}", frozenset())
            exprs = {n: _column_expr(n, t) for n, t in cols if n not in left_out}
            row_expr = " || '|' || ".join(exprs.values()) if exprs else "''"
            tables[f"{schema}.{table}"] = {
                "rows": con.execute(f"select count(*) from {relation}").fetchone()[0],
                "checksum": _digest(con, row_expr, relation),
                "columns": {n: _digest(con, e, relation) for n, e in exprs.items()},
            }
        metrics = _metrics(con)
    return {"tables": tables, "metrics": metrics}


def _metric_diffs(
    path: str, golden: object, actual: object, rel_tol: float = METRIC_REL_TOLERANCE
) -> list[str]:
    if isinstance(golden, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(golden) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key}: missing now")
            elif key not in golden:
                out.append(f"{path}.{key}: new")
            else:
                tol = CROSS_MACHINE_MODELS.get(key, rel_tol) if path == "metrics" else rel_tol
                out += _metric_diffs(f"{path}.{key}", golden[key], actual[key], tol)
        return out
    if isinstance(golden, list) and isinstance(actual, list) and len(golden) == len(actual):
        out = []
        for i, (g, a) in enumerate(zip(golden, actual, strict=True)):
            out += _metric_diffs(f"{path}[{i}]", g, a, rel_tol)
        return out
    both_numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (golden, actual)
    )
    if both_numbers:
        if math.isclose(golden, actual, rel_tol=rel_tol, abs_tol=METRIC_TOLERANCE):
            return []
        return [f"{path}: {golden} -> {actual}"]
    return [] if golden == actual else [f"{path}: {golden!r} -> {actual!r}"]


def differences(golden: dict, actual: dict) -> list[str]:
    """What differs between two fingerprints, one line per table/column/metric."""
    out: list[str] = []
    g_tables, a_tables = golden["tables"], actual["tables"]
    for name in sorted(set(g_tables) | set(a_tables)):
        if name not in a_tables:
            out.append(f"{name}: missing now")
            continue
        if name not in g_tables:
            out.append(f"{name}: new table")
            continue
        g, a = g_tables[name], a_tables[name]
        if g["rows"] != a["rows"]:
            out.append(f"{name}: {g['rows']} rows -> {a['rows']}")
        if g["checksum"] != a["checksum"]:
            cols = sorted(set(g["columns"]) | set(a["columns"]))
            changed = [c for c in cols if g["columns"].get(c) != a["columns"].get(c)]
            out.append(f"{name}: rows differ; columns that differ: {', '.join(changed) or '-'}")
    out += _metric_diffs("metrics", golden["metrics"], actual["metrics"])
    return out


def load_golden() -> dict:
    return json.loads(GOLDEN.read_text())


def _fresh_run(root: Path) -> Path:
    """Run the pipeline once on the shared test sample under `root`; the working file."""
    from orchestration.runner import run_pipeline
    from segmint.sample import generate
    from tests.conftest import SAMPLE, TEST_ENV, make_settings

    os.environ.update(TEST_ENV)
    os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
    landing = root / "landing"
    generate(landing, **SAMPLE)
    settings = make_settings(root, landing)
    summary = run_pipeline(settings, console=None)
    if not summary.success:
        raise SystemExit(f"the run failed: {summary.error}")
    return settings.warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fingerprint")
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="run the sample and (re)write the golden file")
    write.add_argument("--why", required=True, help="what changed on purpose, and why")
    sub.add_parser("check", help="run the sample and compare with the golden file")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="segmint-fingerprint-"))
    try:
        actual = fingerprint(_fresh_run(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.command == "check":
        diffs = differences(load_golden(), actual)
        print("\n".join(diffs) if diffs else "identical to the golden fingerprint")
        return 1 if diffs else 0
    changes = load_golden().get("changes", []) if GOLDEN.exists() else []
    if GOLDEN.exists():
        diffs = differences(load_golden(), actual)
        changes.append({"why": args.why, "differences": diffs})
    else:
        changes.append({"why": args.why, "differences": []})
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps({**actual, "changes": changes}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
