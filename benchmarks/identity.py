"""Identity stitching against the generator's truth: pairwise precision and recall.

    python -m benchmarks.identity [--workdir DIR] [--customers 20000] [--days 365]

Generates a shop with identity material (`generate(identity=True)`: duplicate records with
re-typed e-mails, guest checkouts, placeholder e-mails, extra devices browsed before login,
household tablets, store kiosks), ingests it, builds the identity models with dbt and scores
marts.identity_map against `<landing>/_truth/identity.parquet` (never ingested) over every
customer record and device present in the data. Baseline: no stitching (each record its own
person; a device with the one record it logged in as, else alone). Appends the `identity`
row to ml.model_runs and writes benchmarks/results/identity.json. Targets: precision >= 0.99,
recall >= 0.95.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import duckdb
from dbt.cli.main import dbtRunner

from ml.identity import stitching_run
from ml.runs import MODEL_RUN_COLUMNS, model_runs_frame
from segmint import privacy
from segmint.ingest import ingest
from segmint.project import DBT_PROJECT_DIR
from segmint.sample import generate
from segmint.sample.identity import TRUTH_FILE

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SELECT = ["+identity_map", "+identity_conflicts", "+identity_merges"]


def _dbt(warehouse: Path, workdir: Path) -> None:
    os.environ["SEGMINT_WAREHOUSE"] = str(warehouse)
    privacy.prepare_file(warehouse)
    args = ["build", "--select", *SELECT, "--exclude-resource-type", "test"]
    args += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    args += ["--target-path", str(workdir / "dbt" / "target"), "--log-path", str(workdir / "dbt")]
    result = dbtRunner().invoke(args)
    if not result.success:
        raise SystemExit(f"dbt failed: {result.exception}")


SCORED = """
with truth as (
    select identifier_type, identifier_value, person
    from read_parquet(?)
),
present as (
    select distinct 'customer_id' as identifier_type, trim(customer_id) as identifier_value
    from raw.customers where customer_id is not null
    union
    select distinct 'customer_id', trim(customer_id) from raw.orders where customer_id is not null
    union
    select distinct 'anonymous_id', trim(anonymous_id) from raw.events
    where anonymous_id is not null
),
logins as (
    select trim(anonymous_id) as anonymous_id, min(trim(customer_id)) as customer_id
    from raw.events where anonymous_id is not null and customer_id is not null
    group by 1 having count(distinct trim(customer_id)) = 1
)
select
    truth.identifier_type,
    truth.person,
    map.person_id,
    case when truth.identifier_type = 'customer_id' then truth.identifier_value
         else logins.customer_id end as baseline_id
from truth
inner join present using (identifier_type, identifier_value)
left join marts.identity_map as map
    on map.identifier_type = truth.identifier_type
    and map.identifier_hash = {hash}
left join logins on truth.identifier_type = 'anonymous_id'
    and logins.anonymous_id = truth.identifier_value
"""


def score(warehouse: Path, landing: Path, params: dict, window: dict):
    """The identity ModelRun, appended to ml.model_runs."""
    with duckdb.connect(str(warehouse)) as con:
        privacy.prepare(con)
        frame = con.execute(
            SCORED.format(hash=privacy.keyed_sql("truth.identifier_value")),
            [str(landing / TRUTH_FILE)],
        ).df()
        run = stitching_run(frame, params, window)
        rows = model_runs_frame([run])  # noqa: F841 (read by the insert below)
        con.execute("create schema if not exists ml")
        cols = ", ".join(MODEL_RUN_COLUMNS)
        con.execute(
            f"create table if not exists ml.model_runs as select {cols} from rows where 1 = 0"
        )
        con.execute(f"insert into ml.model_runs ({cols}) select {cols} from rows")
    return run, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/segmint-bench-identity"))
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    a = parser.parse_args()
    landing, warehouse = a.workdir / "landing", a.workdir / "warehouse" / "segmint.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    warehouse.unlink(missing_ok=True)
    t0 = time.perf_counter()
    counts = generate(
        landing, customers=a.customers, days=a.days, seed=42, identity=True, dirt_rate=0.002
    )
    t1 = time.perf_counter()
    ingest(landing, warehouse)
    t2 = time.perf_counter()
    _dbt(warehouse, a.workdir)
    t3 = time.perf_counter()
    params = {"merge_types": ["email", "phone"], "max_persons": 5, "max_iterations": 8}
    window = {"customers": a.customers, "days": a.days, "rows": counts}
    run, frame = score(warehouse, landing, params, window)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "customers": a.customers,
        "days": a.days,
        "rows": counts,
        "metrics": dict(run.metrics),
        "baseline_no_stitching": dict(run.baseline_metrics),
        "targets": {"precision": 0.99, "recall": 0.95},
        "seconds": {
            "generate": round(t1 - t0, 1),
            "ingest": round(t2 - t1, 1),
            "dbt_identity": round(t3 - t2, 1),
        },
        "peak_rss_mb": round(peak_mb),
        "by_type": {k: int(v) for k, v in frame.groupby("identifier_type").size().items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity.json").write_text(json.dumps(result, indent=2) + "\n")
    m, b = run.metrics, run.baseline_metrics
    print(
        f"identity: precision {m['precision']:.4f} recall {m['recall']:.4f}",
        f"(true pairs {m['true_pairs']:,})",
    )
    print(f"baseline (no stitching): precision {b['precision']:.4f} recall {b['recall']:.4f}")
    print(json.dumps(result["seconds"]), f"peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
