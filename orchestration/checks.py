"""Quality gates: a Great Expectations suite per checked table, as Dagster asset checks.

ERROR expectations that fail make the check fail with ERROR severity; the checks are
blocking, so nothing downstream (and so not publish) runs. WARN failures annotate only.
Data Docs HTML is written under <artifacts>/data_docs and linked from each result.
"""

from pathlib import Path

import dagster as dg

import expectations
from orchestration.resources import WarehouseResource


def _gx_check(table: str) -> dg.AssetChecksDefinition:
    """The blocking check of one checked table, on the asset keyed [schema, table]."""
    name = "gx_" + table.replace(".", "_")

    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name=name,
        blocking=True,
        description=f"Great Expectations suite for {table} (ERROR blocks publish)",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        # expectations.validate loads Great Expectations on first use, not at import.
        outcome = expectations.validate(
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


QUALITY_CHECKS: list[dg.AssetChecksDefinition] = [_gx_check(t) for t in expectations.SUITES]
