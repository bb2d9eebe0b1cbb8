"""The recommendations asset: top-k products per customer written back to ml.recommendations.

Reads marts.customer_product_interactions (the one mart the recommender fits on), the
customers' segment, country and acquisition channel (cold start), scores with the
registry's champion (evaluating a refit on the time split against its two baselines when
one is due) and writes the lists with the run (ml.model_runs) and the figures
(ml.plots.recommend), like the other ml assets.
"""

from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from orchestration.defs.ml.assets import C360, _metric_meta, _now, _or, _write_back
from orchestration.defs.ml.registry import decision_metadata, model_registry
from orchestration.lib.io import read_frame, read_optional
from orchestration.lib.resources import WRITER_POOL, ModelsResource, WarehouseResource

if TYPE_CHECKING:
    from ml.recommend import RecommendParams

INTERACTIONS = dg.AssetKey(["marts", "customer_product_interactions"])
SEGMENTS = dg.AssetKey(["ml", "customer_segments"])
IMPLICIT = {"implicit", "scikit-learn", "duckdb"}


class RecommendConfig(dg.Config):
    k: int | None = Field(None, description="Suggestions per customer (unset: settings)")
    stale_days: int | None = Field(
        None, description="Never recommend products unsold for this many days (unset: settings)"
    )
    retrain: bool = Field(False, description="Refit now instead of scoring with the champion")

    def params(self, models: ModelsResource, seed: int) -> "RecommendParams":
        """Recommendation parameters: this run's overrides over the settings."""
        from ml.recommend import RecommendParams

        return RecommendParams(
            k=_or(self.k, models.recommend_k),
            stale_days=_or(self.stale_days, models.recommend_stale_days),
            factors=models.recommend_factors,
            cold_start_orders=models.recommend_cold_start_orders,
            seed=seed,
        )


@dg.asset(
    key=["ml", "recommendations"],
    deps=[INTERACTIONS, C360, SEGMENTS],
    group_name="ml",
    kinds=IMPLICIT,
    description="Top-k products per customer: buy again (due by repurchase interval), "
    "discover (ALS + same category/brand), popular in their segment/country/channel",
    pool=WRITER_POOL,
)
def recommendations(
    context: dg.AssetExecutionContext,
    config: RecommendConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Score every customer now with the champion's ALS item vectors; when a retrain is due,
    evaluate on the time split against two baselines and refit first (ml.registry)."""
    from ml.plots import recommend as recommend_plots
    from ml.recommend import customer_groups, recommend

    interactions = read_frame(warehouse, "select * from marts.customer_product_interactions")
    # the cold-start groups need three columns of customer_360, not its 60
    current = read_frame(
        warehouse, "select customer_id, country, acquisition_channel from marts.customer_360"
    )
    segments = read_optional(warehouse, "ml", "customer_segments")
    if not len(interactions):
        context.log.info("recommendations: no order lines, views or carts yet; nothing to score")
    groups = customer_groups(current, segments)
    params = config.params(models, warehouse.seed)
    registry = model_registry(context, warehouse, models, config.retrain)
    result = recommend(interactions, groups, params, _now(), registry, context.log.info)
    metrics = {k: v for k, v in result.run.metrics.items() if not isinstance(v, dict)}
    k = result.run.params["k"]
    yield from _write_back(
        warehouse,
        "recommend",
        {"ml.recommendations": result.recommendations},
        result.run,
        recommend_plots.figures(result),
        {
            "ml.recommendations": {
                **_metric_meta(
                    metrics,
                    f"precision_at_{k}",
                    "buy_again_counts",
                    (result.run.baseline_metrics.get("buy_again_counts") or {}).get(
                        f"precision_at_{k}"
                    ),
                ),
                "evaluation": dg.MetadataValue.md(
                    result.evaluation.round(4).to_markdown(index=False)
                ),
                **decision_metadata(result.run.decision),
            }
        },
    )
