"""The code location as Dagster sees it: per-domain defs merged, no dbt at import, groups,
kinds, owners and check descriptions (issues #13 and #15)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.lib.dbt_project import prepare
from segmint.errors import SegmintError
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("ingest", "transform", "ml", "activation", "publish", "quality")
RECONCILIATION = {
    "assert_completed_revenue_raw_equals_fct_orders": "marts/fct_orders",
    "assert_customer_360_counts_distinct_known_customers": "marts/customer_360",
    "assert_daily_demand_revenue_equals_fct_orders": "marts/daily_demand",
    "assert_customer_360_history_uses_only_rows_before_cutoff": "marts/customer_360_history",
    "assert_fct_sessions_cover_every_sessionized_event": "marts/fct_sessions",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("location")
    s = make_settings(root, root / "landing").model_copy(
        update={"owners": "team:growth, ana@example.com"}
    )
    prepare(s)
    return s


@pytest.fixture(scope="module")
def graph(settings):
    return build_definitions(settings).resolve_asset_graph()


def test_each_domain_exports_its_own_defs() -> None:
    for domain in DOMAINS:
        module = importlib.import_module(f"orchestration.defs.{domain}.definitions")
        assert hasattr(module, "defs"), domain
    # The root only merges: it defines no asset, check, schedule or sensor of its own.
    tree = ast.parse((ROOT / "orchestration" / "definitions.py").read_text())
    called = {
        n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    }
    assert not called & {"asset", "multi_asset", "asset_check", "AssetSpec", "sensor"}
    assert not (ROOT / "orchestration" / "build.py").exists()


def test_import_runs_no_dbt_and_a_missing_manifest_is_one_clear_error(tmp_path) -> None:
    """Importing the code location never parses dbt; without a prepared manifest, loading
    it names the command that prepares one."""
    warehouse = tmp_path / "warehouse" / "segmint.duckdb"
    code = (
        "import orchestration.definitions as d\n"
        "from segmint.errors import SegmintError\n"
        "try:\n    d.defs()\nexcept SegmintError as e:\n    print('ERR', e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**_env(), "SEGMINT_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ERR no dbt manifest at"), proc.stdout + proc.stderr
    assert "segmint ui" in proc.stdout
    assert not (warehouse.parent / "dbt" / "target" / "manifest.json").exists()


def test_prepare_writes_only_under_the_warehouse_folder(tmp_path) -> None:
    """A read-only copy of the dbt project prepares: target and logs go beside the warehouse."""
    import shutil
    import stat

    project = tmp_path / "installed" / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    for p in [project, *project.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        s = make_settings(tmp_path / "proj", tmp_path / "proj" / "landing")
        manifest = prepare(s, project_dir=project)
        assert manifest == tmp_path / "proj" / "warehouse" / "dbt" / "target" / "manifest.json"
        assert manifest.exists()
        assert (manifest.parent / "partial_parse.msgpack").exists()
        assert sorted(p.name for p in project.iterdir()) == sorted(
            p.name for p in (ROOT / "dbt_project").iterdir() if p.name not in ("target", "logs")
        )
    finally:
        for p in [project, *project.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_groups_have_no_default_and_no_lonely_group(graph) -> None:
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert "default" not in groups, groups.get("default")
    assert set(groups) == {
        "privacy",
        "raw",
        "staging",
        "intermediate",
        "marts",
        "ml",
        "activation",
        "publish",
    }
    # publish is one asset on purpose: the last step, run only when blocking checks pass.
    assert [g for g, keys in groups.items() if len(keys) == 1] == ["publish"]
    assert {"raw/erasure_ledger", "_segmint/hash_key"} == groups["privacy"]
    assert {"staging/country_aliases", "staging/gender_aliases"} <= groups["staging"]
    assert "marts/customers_snapshot" in groups["marts"]
    assert "marts/customer_targeting" in groups["activation"]
    ledger = graph.get(dg.AssetKey(["raw", "erasure_ledger"]))
    assert "segmint forget" in ledger.description


def test_every_asset_has_kinds_and_the_owners_setting(graph) -> None:
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.kinds, key
        assert list(node.owners) == ["team:growth", "ana@example.com"], key
    kinds = {k.to_user_string(): graph.get(k).kinds for k in graph.get_all_asset_keys()}
    assert {"dbt", "duckdb"} <= kinds["marts/customer_360"]
    assert "scikit-learn" in kinds["ml/churn_scores"]
    assert "scikit-learn" in kinds["ml/customer_segments"]
    assert "prophet" in kinds["ml/demand_forecasts"]
    # tests/conftest.py points at the repo's audiences: hubspot, mailchimp, google_ads, meta…
    audience_kinds = set().union(
        *(v for k, v in kinds.items() if k.startswith("activation/audience_") and "_run" not in k)
    )
    assert audience_kinds & {"hubspot", "salesforce", "mailchimp", "google_ads", "meta"}


def test_bad_owner_is_one_clear_error(settings) -> None:
    with pytest.raises(SegmintError, match="team:<name>"):
        build_definitions(settings.model_copy(update={"owners": "data team"}))


def test_dbt_checks_carry_descriptions_and_reconciliations_sit_on_their_mart(graph) -> None:
    specs = {ck: graph.get_check_spec(ck) for ck in graph.asset_check_keys}
    assert all(spec.description for spec in specs.values()), [
        ck for ck, spec in specs.items() if not spec.description
    ]
    by_name = {ck.name: ck for ck in specs}
    for test, mart in RECONCILIATION.items():
        assert test in by_name, test
        assert by_name[test].asset_key.to_user_string() == mart
        assert specs[by_name[test]].blocking
    c360 = by_name["not_null_customer_360_customer_id"]
    assert specs[c360].description == "dbt test not_null on column customer_id"


def test_settings_reach_assets_only_through_resources() -> None:
    """No module under orchestration/ reads the settings or the environment itself, except
    the root (loads the settings once) and the runner (the CLI's side)."""
    allowed = {"definitions.py", "runner.py"}
    for path in (ROOT / "orchestration").rglob("*.py"):
        rel = path.relative_to(ROOT / "orchestration").as_posix()
        text = path.read_text()
        if rel in allowed:
            continue
        assert "get_settings" not in text, rel
        assert "default_factory" not in text, rel
        assert "os.environ.get" not in text and "os.getenv" not in text, rel


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_postgres_source_adds_dlt_assets_upstream_of_raw(settings) -> None:
    """With a `source` setting the location gains one dagster-dlt asset per source table
    (group raw, owners and kinds like every asset) feeding its raw table; building the
    definitions never connects to the database (no DSN is set here)."""
    from tests.segmint.ingest.pgsource import source

    graph = build_definitions(
        settings.model_copy(update={"source": source()})
    ).resolve_asset_graph()
    extract = [k for k in graph.get_all_asset_keys() if k.path[0] == "postgres"]
    assert sorted(k.path[1] for k in extract) == sorted(source().tables)
    for key in extract:
        node = graph.get(key)
        assert node.group_name == "raw" and {"postgres", "dlt"} <= node.kinds, key
        assert list(node.owners) == ["team:growth", "ana@example.com"], key
        assert key in graph.get(dg.AssetKey(["raw", key.path[1]])).parent_keys
