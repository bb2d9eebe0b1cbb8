"""Apache Spark as segmint's engine: the session dbt-spark runs in, and the raw lake in it.

The SparkSession is built from the `spark` target of dbt_project/profiles.yml (its
server_side_parameters, with `env_var(...)` rendered), so Python and dbt-spark's
`method: session` use one configuration and one JVM: dbt-spark's `getOrCreate()` returns the
session started here. Files live under the spark dir (setting `spark_dir`, env
SEGMINT_SPARK_DIR): `lake/` (Parquet, written by segmint.lake), `tables/` (managed tables
dbt builds) and the Derby metastore. pyspark is optional (`pip install segmint[spark]`) and
is imported only here, only when called.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

from segmint.errors import SegmintError
from segmint.project import DBT_PROJECT_DIR

SPARK_DIR_ENV = "SEGMINT_SPARK_DIR"
# On Spark the tables of these schemas are what analysts query; the run that last published
# them and their row counts are in <spark dir>/published.json (`segmint status` reads it).
PUBLISHED_SCHEMAS = ("marts", "ml", "activation")
PUBLISHED_FILE = "published.json"


class SparkUnavailableError(SegmintError):
    """pyspark or a Java runtime is missing."""


def java_missing() -> str | None:
    """Why Spark cannot start here (no `java` on PATH and no JAVA_HOME), else None."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") or (home and (Path(home) / "bin" / "java").exists()):
        return None
    return "Spark needs a Java runtime (17): no `java` on PATH and JAVA_HOME is not set"


def session_conf(spark_dir: Path, profiles_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """The server_side_parameters of the profile's spark target, rendered for `spark_dir`."""
    profile = yaml.safe_load((profiles_dir / "profiles.yml").read_text())
    params = profile["segmint"]["outputs"]["spark"]["server_side_parameters"]
    env = {**os.environ, SPARK_DIR_ENV: str(Path(spark_dir).resolve())}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise SegmintError(f"profiles.yml: env var {name} is not set")
        return default

    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {k: jinja.from_string(str(v)).render(env_var=env_var) for k, v in params.items()}


def session(spark_dir: Path) -> Any:
    """The process's SparkSession (started with session_conf on first use)."""
    reason = java_missing()
    if reason:
        raise SparkUnavailableError(reason)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailableError(
            "engine spark needs pyspark: pip install 'segmint[spark]'"
        ) from exc
    spark_dir = Path(spark_dir)
    spark_dir.mkdir(parents=True, exist_ok=True)
    os.environ[SPARK_DIR_ENV] = str(spark_dir.resolve())  # read by profiles.yml in dbt runs
    # Python workers (applyInPandas) run this interpreter, which has segmint's packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(spark_dir).items():
        builder = builder.config(key, value)
    started = builder.getOrCreate()
    # dbt-spark's getOrCreate() with the profile's settings warns on every model that the
    # session exists already (it is meant to); errors still show.
    started.sparkContext.setLogLevel("ERROR")
    return started


def lake_dir(spark_dir: Path) -> Path:
    return Path(spark_dir) / "lake"


def register_lake(spark: Any, lake: Path) -> list[str]:
    """An external Parquet table for every <lake>/<schema>/<table>/ folder (replacing the
    previous registration, so files rewritten by segmint.lake are read anew)."""
    registered = []
    for schema_dir in sorted(p for p in Path(lake).iterdir() if p.is_dir()):
        spark.sql(f"create database if not exists `{schema_dir.name}`")
        for folder in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            if folder.name.startswith("."):
                continue
            name = f"`{schema_dir.name}`.`{folder.name}`"
            location = folder.resolve().as_uri().replace("'", "\\'")
            spark.sql(f"drop table if exists {name}")
            spark.sql(f"create table {name} using parquet location '{location}'")
            registered.append(f"{schema_dir.name}.{folder.name}")
    return registered
