"""Table and column comments of the published snapshot.

dbt persists its yml descriptions as comments in the working file (`persist_docs`). Tables
that Python writes (ml.*, activation.*) are documented the same way, in a `tables.yml` beside
the code that writes them (ml/<family>/tables.yml, segmint/activation/tables.yml). The
snapshot carries, for each table and column, the first of:

1. the comment in the working file (dbt's, or a Python-written table's own);
2. its `tables.yml` description;
3. for a column of a dbt model: the description of the same column in a model it selects
   from (customer_targeting passes customer_360's features through under the same names,
   documented once), from the dbt manifest; or the description of a generated column
   family (`cat_share_<category>`).

`customer_key`, which stands in for customer_id in every published table, is described once
here.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

CUSTOMER_KEY = (
    "Pseudonym of the customer: keyed hash (HMAC-SHA256) of customer_id, the same in every "
    "published table; it cannot be reversed without the warehouse's key."
)
# Columns dbt generates one per value (a Jinja loop over the categories seen).
GENERATED = {
    "cat_share_": "Share of the customer's completed-order spend (base currency) in the "
    "category {}.",
}


@dataclass
class Docs:
    """Comments to give the tables and columns of one snapshot."""

    tables: dict[tuple[str, str], str] = field(default_factory=dict)
    columns: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # (schema, table) of a dbt model -> the relations it selects from (the manifest's refs)
    parents: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def column(self, schema: str, table: str, column: str) -> str | None:
        if column == "customer_key":
            return CUSTOMER_KEY
        found = self.columns.get((schema, table, column))
        if found:
            return found
        for parent in self.parents.get((schema, table), []):  # a column dbt passes through
            if found := self.columns.get((*parent, column)):
                return found
        for prefix, text in GENERATED.items():
            if column.startswith(prefix) and len(column) > len(prefix):
                return text.format(column[len(prefix) :])
        return None


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


@functools.cache
def python_table_docs() -> dict[tuple[str, str], dict]:
    """(schema, table) -> {'description', 'columns': {name: description}} from every
    tables.yml of the model packages (schema ml) and of segmint.activation (activation)."""
    sources: list[tuple[str, Path]] = []
    if (ml := _package_dir("ml")) is not None:
        sources += [("ml", p) for p in sorted(ml.rglob("tables.yml"))]
    activation = Path(__file__).resolve().parents[1] / "activation" / "tables.yml"
    sources.append(("activation", activation))
    docs: dict[tuple[str, str], dict] = {}
    for schema, path in sources:
        for t in (yaml.safe_load(path.read_text()) or {}).get("tables", []):
            columns = {str(c["name"]): str(c.get("description", "")) for c in t.get("columns", [])}
            docs[(schema, t["name"])] = {"description": t.get("description"), "columns": columns}
    return docs


def model_parents(manifest: Path | None) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, name) of each dbt model or snapshot -> (schema, name) of the nodes it refs."""
    if manifest is None or not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    where = {k: (n["schema"], n.get("alias") or n["name"]) for k, n in nodes.items()}
    return {
        where[k]: [where[d] for d in n.get("depends_on", {}).get("nodes", []) if d in where]
        for k, n in nodes.items()
        if n.get("resource_type") in ("model", "snapshot")
    }


def working_docs(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], manifest: Path | None = None
) -> Docs:
    """The comments of `schemas` in the working file, completed from the tables.yml files
    and, for columns dbt passes through, from the models they come from (`manifest`)."""
    docs = Docs(parents=model_parents(manifest))
    where = "database_name = current_database()"  # parents may live in other schemas
    for s, t, c in con.execute(
        f"select schema_name, table_name, comment from duckdb_tables() where {where}"
    ).fetchall():
        if c:
            docs.tables[(s, t)] = c
    for s, t, n, c in con.execute(
        f"select schema_name, table_name, column_name, comment from duckdb_columns() where {where}"
    ).fetchall():
        if c:
            docs.columns[(s, t, n)] = c
    by_schema: dict[str, list] = defaultdict(list)
    for (s, t), d in python_table_docs().items():
        by_schema[s].append((t, d))
    for s in schemas:
        for t, d in by_schema[s]:
            if d["description"]:
                docs.tables.setdefault((s, t), d["description"].strip())
            for n, c in d["columns"].items():
                if c:
                    docs.columns.setdefault((s, t, n), c.strip())
    return docs


def _literal(text: str) -> str:
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def comment_table(
    con: duckdb.DuckDBPyConnection, docs: Docs, catalog: str, schema: str, table: str
) -> None:
    """COMMENT ON the copy `catalog.schema.table` and each of its columns, where documented."""
    relation = f'{catalog}."{schema}"."{table}"'
    if text := docs.tables.get((schema, table)):
        con.execute(f"comment on table {relation} is {_literal(text)}")
    (cols,) = con.execute(
        "select list(column_name order by column_index) from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ?",
        [catalog, schema, table],
    ).fetchone()
    for column in cols or []:
        if text := docs.column(schema, table, column):
            con.execute(f'comment on column {relation}."{column}" is {_literal(text)}')
