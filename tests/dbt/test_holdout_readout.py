"""activation.holdout_readout (dbt): exported vs holdout members after each export, with CIs."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import build_definitions
from orchestration.lib.dbt_project import prepare
from segmint.activation import ensure_activation_schema
from tests.conftest import make_settings
from tests.dbt.helpers import DbtProject

AS_OF = date(2024, 6, 30)
Z95 = 1.959963984540054
READOUT_COLUMNS = [
    "audience",
    "destination",
    "run_id",
    "as_of_date",
    "window_days",
    "window_end",
    "window_complete",
    "exported_members",
    "holdout_members",
    "exported_purchasers",
    "holdout_purchasers",
    "exported_purchase_rate",
    "holdout_purchase_rate",
    "purchase_rate_uplift",
    "purchase_rate_ci_low",
    "purchase_rate_ci_high",
    "exported_revenue_per_member",
    "holdout_revenue_per_member",
    "revenue_uplift",
    "revenue_ci_low",
    "revenue_ci_high",
    "computed_at",
]


def warehouse(tmp_path: Path, orders: list[tuple], exports: bool = True) -> DbtProject:
    """A warehouse with marts.fct_orders (customer, order date, amount, completed) and, when
    `exports`, the activation tables of segmint's export state (still empty)."""
    db = tmp_path / "segmint.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_orders (customer_id varchar, order_date date, "
            "total_amount_base decimal(18, 2), is_completed boolean)"
        )
        con.executemany("insert into marts.fct_orders values (?, ?, ?, ?)", orders)
        if exports:
            ensure_activation_schema(con)
    return DbtProject(db, tmp_path)


def record_run(
    project: DbtProject,
    run_id: str,
    members: dict[str, bool],
    as_of: date | None = AS_OF,
    status: str = "success",
    destination: str = "csv",
) -> None:
    """An export run of audience test_aud and its members (customer_id -> in_holdout)."""
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            "insert into activation.audience_runs (run_id, audience, destination, format, mode,"
            " as_of_date, started_at, status) values (?, 'test_aud', ?, 'csv', 'full', ?, ?, ?)",
            [run_id, destination, as_of, datetime(2024, 7, 1, 4), status],
        )
        for customer_id, in_holdout in members.items():
            con.execute(
                "insert into activation.audience_run_members values (?, 'test_aud', ?, ?, null, ?)",
                [run_id, destination, customer_id, in_holdout],
            )


def readout(project: DbtProject) -> dict[str, dict]:
    """Build holdout_readout (with its tests) and return its rows by run_id."""
    project.build("--select", "holdout_readout")
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        cur = con.execute("select * from activation.holdout_readout")
        names = [d[0] for d in cur.description]
        return {row[2]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def var(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


EXPORTED = [f"e{i}" for i in range(1, 7)]
HOLDOUT = [f"h{i}" for i in range(1, 5)]
LATE = AS_OF + timedelta(days=40)


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One warehouse holding every case below (each with its own customers), built once."""
    orders = [
        # run r1: exported vs holdout
        (EXPORTED[0], AS_OF + timedelta(days=1), 100.0, True),
        (EXPORTED[0], AS_OF + timedelta(days=5), 50.0, True),
        (EXPORTED[1], AS_OF + timedelta(days=30), 30.0, True),
        (EXPORTED[2], AS_OF + timedelta(days=31), 999.0, True),  # after the window
        (EXPORTED[2], AS_OF, 999.0, True),  # on the export day: before the window
        (HOLDOUT[0], AS_OF + timedelta(days=2), 20.0, True),
        (HOLDOUT[1], AS_OF + timedelta(days=3), 500.0, False),  # cancelled
        (HOLDOUT[1], AS_OF + timedelta(days=60), 1.0, True),  # data runs past the window
        # run single (as of LATE) and the runs that are not read out
        ("x1", LATE + timedelta(days=3), 10.0, True),
        ("x2", AS_OF, 5.0, True),
        # run small: groups of two and one
        ("a", AS_OF + timedelta(days=1), 40.0, True),
        ("c", AS_OF + timedelta(days=2), 8.0, True),
    ]
    project = warehouse(tmp_path_factory.mktemp("readout"), orders)
    record_run(project, "r1", {**dict.fromkeys(EXPORTED, False), **dict.fromkeys(HOLDOUT, True)})
    # Exported group of one, no holdout; the orders data ends before its window does.
    record_run(project, "single", {"x1": False}, as_of=LATE, destination="hubspot")
    record_run(project, "failed", {"x1": False, "x2": True}, status="failed")
    record_run(project, "running", {"x1": False, "x2": True}, status="running")
    record_run(project, "no_as_of", {"x1": False, "x2": True}, as_of=None)
    record_run(project, "no_members", {})
    record_run(project, "small", {"a": False, "b": False, "c": True})
    return readout(project)


def test_holdout_readout_compares_groups_with_ci(rows: dict[str, dict]) -> None:
    row = rows["r1"]
    n_e, n_h = len(EXPORTED), len(HOLDOUT)
    assert row["exported_members"] == n_e and row["holdout_members"] == n_h
    assert row["exported_purchasers"] == 2 and row["holdout_purchasers"] == 1
    assert row["exported_purchase_rate"] == pytest.approx(2 / n_e)
    assert row["holdout_purchase_rate"] == pytest.approx(1 / n_h)
    rev_e = [150.0, 30.0] + [0.0] * (n_e - 2)
    rev_h = [20.0] + [0.0] * (n_h - 1)
    mean_e, mean_h = sum(rev_e) / n_e, sum(rev_h) / n_h
    assert row["exported_revenue_per_member"] == pytest.approx(mean_e)
    assert row["holdout_revenue_per_member"] == pytest.approx(mean_h)
    assert row["revenue_uplift"] == pytest.approx(mean_e - mean_h)
    half = Z95 * (var(rev_e) / n_e + var(rev_h) / n_h) ** 0.5
    assert row["revenue_ci_low"] == pytest.approx(mean_e - mean_h - half)
    assert row["revenue_ci_high"] == pytest.approx(mean_e - mean_h + half)
    p_e, p_h = 2 / n_e, 1 / n_h
    half_p = Z95 * (p_e * (1 - p_e) / n_e + p_h * (1 - p_h) / n_h) ** 0.5
    assert row["purchase_rate_uplift"] == pytest.approx(p_e - p_h)
    assert row["purchase_rate_ci_low"] == pytest.approx(p_e - p_h - half_p)
    assert row["purchase_rate_ci_high"] == pytest.approx(p_e - p_h + half_p)
    assert row["window_complete"] is True and row["window_days"] == 30
    assert row["window_end"] == AS_OF + timedelta(days=30)
    assert (row["audience"], row["destination"], row["as_of_date"]) == ("test_aud", "csv", AS_OF)


def test_only_successful_runs_with_members_are_read_out(rows: dict[str, dict]) -> None:
    assert sorted(rows) == ["r1", "single", "small"]
    row = rows["single"]
    assert row["window_complete"] is False  # data until AS_OF + 60 < LATE + 30
    assert (row["exported_members"], row["holdout_members"]) == (1, 0)
    assert (row["exported_purchasers"], row["holdout_purchasers"]) == (1, 0)
    assert row["exported_purchase_rate"] == 1.0 and row["exported_revenue_per_member"] == 10.0
    # Without a holdout group there is nothing to compare against: no rates, uplift or CIs.
    for column in READOUT_COLUMNS[12:16] + READOUT_COLUMNS[17:21]:
        assert row[column] is None, column
    assert row["destination"] == "hubspot"


def test_revenue_interval_needs_two_members_per_group(rows: dict[str, dict]) -> None:
    row = rows["small"]
    assert row["revenue_uplift"] == pytest.approx(20.0 - 8.0)
    assert row["revenue_ci_low"] is None and row["revenue_ci_high"] is None
    # One holdout member who bought: rate 1, so its Wald variance term is 0.
    se = math.sqrt(0.5 * 0.5 / 2)
    assert row["purchase_rate_ci_low"] == pytest.approx(0.5 - 1.0 - Z95 * se)


def test_readout_table_exists_empty_before_any_export(tmp_path: Path) -> None:
    project = warehouse(tmp_path, [("a", AS_OF, 1.0, True)], exports=False)
    assert readout(project) == {}
    columns = [
        r[0]
        for r in project.query(
            "select column_name from information_schema.columns where table_schema = 'activation'"
            " and table_name = 'holdout_readout' order by ordinal_position"
        )
    ]
    assert columns == READOUT_COLUMNS


# ------------------------------------------------------------------------------ orchestration


READOUT_KEY = dg.AssetKey(["activation", "holdout_readout"])


def test_readout_runs_after_every_audience_export_and_before_publish(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "landing")
    prepare(settings)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    upstream = graph.get(READOUT_KEY).parent_keys
    audiences = {k for k in graph.materializable_asset_keys if k.path[-1].startswith("audience_")}
    assert len(audiences) == 3 and audiences <= upstream
    assert dg.AssetKey(["marts", "fct_orders"]) in upstream
    assert READOUT_KEY in graph.get(dg.AssetKey(["publish", "snapshot"])).parent_keys
    # ... and the job really runs it after them (the asset graph alone did not prove that).
    job = defs.resolve_job_def("segmint_pipeline")
    op_name = defs.resolve_assets_def(READOUT_KEY).node_def.name
    inputs = next(ins for node, ins in job.dependencies.items() if node.name == op_name)
    upstream_ops = {getattr(dep, "node", None) for dep in inputs.values()}
    assert {defs.resolve_assets_def(k).node_def.name for k in audiences} <= upstream_ops


def test_readout_is_built_without_any_audience(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "landing")
    settings = settings.model_copy(update={"audiences": tmp_path / "no_audiences"})
    prepare(settings)
    graph = build_definitions(settings).resolve_asset_graph()
    assert READOUT_KEY in graph.get_all_asset_keys()
    assert graph.get(READOUT_KEY).is_materializable
