"""The Postgres extract: one dagster-dlt asset per source table (postgres/<contract table>).

dlt's sql_database source writes the changed rows as Parquet batches beside the warehouse
(segmint.ingest.postgres); raw_tables, downstream, loads them through the landing contract.
The asset specs come from the `source` setting alone: the definitions load without the
database or its DSN, which is read from its env var when the asset runs.
"""

from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.lib.resources import WRITER_POOL, WarehouseResource
from segmint.ingest import postgres as pg
from segmint.settings import PostgresSource


class SourceTranslator(DagsterDltTranslator):
    """Asset key postgres/<contract table>, in the raw group."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        table = str(data.resource.table_name)
        return spec.replace_attributes(
            key=dg.AssetKey(["postgres", table]),
            deps=[],
            group_name="raw",
            kinds={"postgres", "dlt"},
            description=f"Changed rows of the source table for {table}, extracted by dlt as "
            "Parquet batches; raw_tables loads them through the contract",
        )


def postgres_assets(source: PostgresSource, warehouse: Path) -> dg.AssetsDefinition:
    """The dlt extract of every configured source table, as dagster-dlt assets."""
    import sqlalchemy

    # A URL without a server: building the specs never connects.
    placeholder = sqlalchemy.create_engine("postgresql+psycopg://")
    translator = SourceTranslator()

    @dlt_assets(
        dlt_source=pg.dlt_source(placeholder, source),
        dlt_pipeline=pg.dlt_pipeline(warehouse),
        name="postgres_extract",
        dagster_dlt_translator=translator,
        pool=WRITER_POOL,
    )
    def postgres_extract(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource
    ) -> Any:
        conn = pg.connection(source)
        eng = pg.engine(conn)
        try:
            pg.check_source(eng, source, conn)
            yield from dlt.run(
                context=context,
                dlt_source=pg.dlt_source(eng, source),
                dlt_pipeline=pg.dlt_pipeline(Path(warehouse.db)),
                dagster_dlt_translator=translator,
                loader_file_format="parquet",
            )
        finally:
            eng.dispose()

    return postgres_extract
