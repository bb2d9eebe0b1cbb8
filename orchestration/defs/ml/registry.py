"""The model registry as the ML assets use it: where it lives, this run's policy, and the
decision shown as materialization metadata (ml.registry does the work).

A run retrains every model when `--retrain` was given (`segmint run --retrain` sets the run
tag `segmint/retrain=true`; in the launchpad add that tag, or set `retrain: true` in one
asset's config to retrain only that model).
"""

from typing import TYPE_CHECKING, Any

import dagster as dg

from orchestration.lib.resources import ModelsResource, WarehouseResource

if TYPE_CHECKING:
    from ml.registry import ModelStore, Policy

RETRAIN_TAG = "segmint/retrain"
Metadata = dict[str, dg.MetadataValue]


def retrain_requested(context: dg.AssetExecutionContext, config_retrain: bool) -> bool:
    """Retrain when the asset's config says so or the run carries the retrain tag."""
    tag = str(context.run.tags.get(RETRAIN_TAG, "")).lower()
    return config_retrain or tag in ("1", "true", "yes")


def model_registry(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    models: ModelsResource,
    config_retrain: bool = False,
) -> "tuple[ModelStore, Policy]":
    """The store under <warehouse dir>/models and this run's retrain policy."""
    from ml.registry import ModelStore, Policy

    policy = Policy(
        cadence_days=models.model_cadence_days,
        tolerance=models.model_tolerance,
        psi_threshold=models.model_drift_psi,
        retrain=retrain_requested(context, config_retrain),
    )
    return ModelStore(warehouse.models_dir), policy


def _value(value: Any) -> dg.MetadataValue:
    if isinstance(value, bool) or value is None:
        return dg.MetadataValue.text(str(value))
    if isinstance(value, int | float) and value == value:
        return dg.MetadataValue.float(float(value))
    return dg.MetadataValue.text(str(value))


def decision_metadata(decision: dict[str, Any] | None) -> Metadata:
    """What the registry decided, why, and both held-out metrics, for the asset's page."""
    decision = decision or {}
    meta: Metadata = {
        "registry_decision": dg.MetadataValue.text(str(decision.get("decision"))),
        "retrain_reasons": dg.MetadataValue.text(", ".join(decision.get("reasons") or []) or "-"),
        "registry": dg.MetadataValue.json(decision),
    }
    for key in ("challenger_metric", "champion_metric", "champion_version", "drift_max_psi"):
        if key in decision:
            meta[key] = _value(decision[key])
    return meta
