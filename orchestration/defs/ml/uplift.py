"""The uplift asset: learn from the audiences' holdouts (marts.uplift_training), score now.

Reads the training table and the current features (customer_360 with discount sensitivity),
runs ml.uplift and writes ml.uplift_scores with its ModelRun in one transaction. Until
enough export windows have passed it writes nothing (no table, no run) and reports
"not enough outcomes yet (n treated, n control, needed ...)" on the materialization.
"""

from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from orchestration.defs.ml.assets import SKLEARN, _metric_meta, _now, _or, _write_back
from orchestration.lib.io import read_frame
from orchestration.lib.resources import WRITER_POOL, ModelsResource, WarehouseResource

if TYPE_CHECKING:
    import pandas as pd

    from ml.uplift import UpliftParams

TRAINING = dg.AssetKey(["marts", "uplift_training"])
C360 = dg.AssetKey(["marts", "customer_360"])
DISCOUNTS = dg.AssetKey(["marts", "discount_sensitivity"])
CURRENT_SQL = """
    select c.*, d.discount_share_index, d.discount_purchase_rate_lift
    from marts.customer_360 c
    left join marts.discount_sensitivity d on d.customer_id = c.customer_id
"""


class UpliftConfig(dg.Config):
    min_treated: int | None = Field(
        None, description="Fewest treated members with a passed window (unset: settings)"
    )
    min_control: int | None = Field(
        None, description="Fewest holdout members with a passed window (unset: settings)"
    )
    min_purchasers: int | None = Field(
        None, description="Fewest purchasers in each group (unset: settings)"
    )
    policy_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Offline policy comparison: share of each past run targeted (unset: 0.3)",
    )

    def params(self, models: ModelsResource, seed: int) -> "UpliftParams":
        """Uplift parameters: this run's overrides over the settings."""
        from ml.uplift import UpliftParams

        return UpliftParams(
            min_treated=_or(self.min_treated, models.uplift_min_treated),
            min_control=_or(self.min_control, models.uplift_min_control),
            min_purchasers=_or(self.min_purchasers, models.uplift_min_purchasers),
            policy_share=_or(self.policy_share, UpliftParams.policy_share),
            seed=seed,
        )


def money(frame: "pd.DataFrame", column: str) -> "pd.DataFrame":
    """The column as DECIMAL(18,2) (how DuckDB stores it), rounded to cents."""
    from decimal import Decimal

    import pandas as pd
    import pyarrow as pa

    cents = [Decimal(f"{v:.2f}") for v in frame[column].astype(float)]
    return frame.assign(**{column: pd.array(cents, dtype=pd.ArrowDtype(pa.decimal128(18, 2)))})


@dg.asset(
    key=["ml", "uplift_scores"],
    deps=[TRAINING, C360, DISCOUNTS],
    group_name="ml",
    kinds=SKLEARN,
    pool=WRITER_POOL,
    description="Uplift of each past audience per customer (purchase probability, revenue), "
    "an X-learner trained on the exported vs holdout members of past exports; Qini vs random "
    "and the top share by uplift vs by churn risk on held-out members",
)
def uplift_scores(
    context: dg.AssetExecutionContext,
    config: UpliftConfig,
    warehouse: WarehouseResource,
    models: ModelsResource,
):
    """Train on past exports' treated vs holdout outcomes, Qini vs random, the offline policy
    comparison (top share by uplift / churn risk / everyone), score everyone."""
    from ml.plots import uplift as uplift_plots
    from ml.uplift import NotEnoughOutcomes, run_uplift
    from ml.uplift.policy import policy_table

    training = read_frame(warehouse, "select * from marts.uplift_training")
    params = config.params(models, warehouse.seed)
    try:
        result = run_uplift(training, read_frame(warehouse, CURRENT_SQL), params, now=_now())
    except NotEnoughOutcomes as exc:
        context.log.warning(f"uplift: {exc}; nothing written")
        yield dg.MaterializeResult(
            metadata={"status": dg.MetadataValue.text(str(exc)), "written": False}
        )
        return
    metrics = dict(result.run.metrics)
    yield from _write_back(
        warehouse,
        "uplift",
        {"ml.uplift_scores": money(result.scores, "uplift_revenue")},
        result.run,
        uplift_plots.figures(result),
        {
            "ml.uplift_scores": {
                **_metric_meta(
                    metrics,
                    "qini_purchased",
                    "random targeting",
                    result.run.baseline_metrics.get("qini_purchased"),
                ),
                "metrics_vs_baseline": dg.MetadataValue.json(
                    {"metrics": metrics, "random_targeting": result.run.baseline_metrics}
                ),
                "policy_comparison": dg.MetadataValue.md(policy_table(metrics)),
            }
        },
    )


UPLIFT_ASSETS = [uplift_scores]
