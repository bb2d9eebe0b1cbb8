"""The customer-value asset: PyMC-Marketing's BG/NBD-family + Gamma-Gamma, per customer.

PyMC and PyTensor load only inside the asset body (several seconds of imports), after the
compile cache is pointed at the settings' folder (default: the user cache), so the code
location still loads fast and PyTensor never writes under the installed package or ~/.pytensor.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from orchestration.defs.ml.assets import _metric_meta, _now, _or, _write_back
from orchestration.defs.ml.registry import decision_metadata, model_registry
from orchestration.lib.io import read_frame
from orchestration.lib.resources import WRITER_POOL, ModelsResource, WarehouseResource

VALUE_INPUTS = dg.AssetKey(["marts", "customer_value_inputs"])
PYMC = {"pymc", "duckdb"}

if TYPE_CHECKING:
    from ml.value import ValueParams


class ValueConfig(dg.Config):
    transaction_model: str | None = Field(
        None, description="modified_beta_geo or beta_geo (unset: settings)"
    )
    draws: int | None = Field(
        None, description="Laplace draws behind the 80% intervals (unset: settings)"
    )
    retrain: bool = Field(False, description="Refit now instead of scoring with the champion")

    def params(self, models: ModelsResource, seed: int) -> "ValueParams":
        """Customer-value parameters: this run's overrides over the settings."""
        from ml.value import ValueParams

        return ValueParams(
            transaction_model=_or(self.transaction_model, models.value_transaction_model),
            draws=_or(self.draws, models.value_interval_draws),
            seed=seed,
        )


def compile_cache(models: ModelsResource) -> Path:
    """Point PyTensor at the settings' compile cache (before anything imports it)."""
    from ml.value.compile_cache import default_compile_cache, use_compile_cache

    folder = Path(models.pytensor_cache) if models.pytensor_cache else default_compile_cache()
    return use_compile_cache(folder)


@dg.asset(
    key=["ml", "customer_value"],
    deps=[VALUE_INPUTS],
    group_name="ml",
    kinds=PYMC,
    pool=WRITER_POOL,
    description="p_alive, expected purchases and order value, predicted revenue 90/365 d "
    "with an 80% interval per customer (MBG/NBD or BG/NBD + Gamma-Gamma, MAP + Laplace)",
)
def customer_value(
    context: dg.AssetExecutionContext,
    config: ValueConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Score every customer as of now with the champion; when a retrain is due, evaluate a
    challenger on the time split against run-rate and fit it first (ml.registry)."""
    cache = compile_cache(models)
    from ml.plots import value as value_plots
    from ml.value.run import run_customer_value

    inputs = read_frame(warehouse, "select * from marts.customer_value_inputs")
    params = config.params(models, warehouse.seed)
    context.log.info(f"customer value: {len(inputs)} input rows, compile cache {cache}")
    registry = model_registry(context, warehouse, models, config.retrain)
    result = run_customer_value(inputs, params, _now(), registry, context.log.info)
    metrics = {k: v for k, v in result.run.metrics.items() if not isinstance(v, dict)}
    baseline = result.run.baseline_metrics.get("run_rate") or {}
    yield from _write_back(
        warehouse,
        "value",
        {"ml.customer_value": result.scores},
        result.run,
        value_plots.figures(result),
        {
            "ml.customer_value": {
                **_metric_meta(metrics, "spearman", "run_rate", baseline.get("spearman")),
                "metrics_vs_baseline": dg.MetadataValue.json(
                    {"metrics": result.run.metrics, "baseline": result.run.baseline_metrics}
                ),
                "pytensor_cache": dg.MetadataValue.path(str(cache)),
                **decision_metadata(result.run.decision),
            }
        },
    )
