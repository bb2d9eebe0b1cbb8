"""Quality gates: a Great Expectations suite per checked table, as Dagster asset checks.

ERROR expectations that fail make the check fail with ERROR severity; the checks are
blocking, so nothing downstream (and so not publish) runs. WARN failures annotate only.
Data Docs HTML is written under <artifacts>/data_docs and linked from each result.
"""

from pathlib import Path

import dagster as dg

from orchestration.resources import WarehouseResource

# Checked table -> the asset that writes it.
CHECKED = {
    "raw.customers": ["raw", "customers"],
    "raw.products": ["raw", "products"],
    "raw.orders": ["raw", "orders"],
    "raw.order_items": ["raw", "order_items"],
    "raw.events": ["raw", "events"],
    "marts.customer_360": ["marts", "customer_360"],
    "ml.churn_scores": ["ml", "churn_scores"],
    "ml.customer_segments": ["ml", "customer_segments"],
    "ml.demand_forecasts": ["ml", "demand_forecasts"],
    "customer_targeting": ["marts", "customer_targeting"],
}


def _gx_check(table: str, asset: list[str]) -> dg.AssetChecksDefinition:
    name = "gx_" + table.replace(".", "_")

    @dg.asset_check(
        asset=dg.AssetKey(asset),
        name=name,
        blocking=True,
        description=f"Great Expectations suite for {table} (ERROR blocks publish)",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from expectations import validate

        outcome = validate(
            Path(warehouse.path),
            table,
            docs_dir=warehouse.artifact_dir("data_docs"),
            history_dir=warehouse.artifact_dir("quality_history"),
        )
        meta = {k: v for k, v in outcome.metadata().items()}
        if outcome.docs_index:
            meta["data_docs"] = dg.MetadataValue.path(str(outcome.docs_index))
        return dg.AssetCheckResult(
            passed=not outcome.failed,
            severity=(
                dg.AssetCheckSeverity.ERROR
                if outcome.blocking_failed
                else dg.AssetCheckSeverity.WARN
            ),
            description=outcome.summary(),
            metadata=meta,
        )

    return check


QUALITY_CHECKS: list[dg.AssetChecksDefinition] = [_gx_check(t, a) for t, a in CHECKED.items()]
