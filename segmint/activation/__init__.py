"""Activation: audiences over marts.customer_targeting -> holdouts, deltas, exports, syncs.

Entry points (every function takes a DuckDB connection; nothing global):
- load_audiences / validate_audiences / get_audience: read and check audience YAML files
  (and dbt models tagged `audience`) against the real columns of customer_targeting.
- preview_audience: counts and a masked sample, no state change.
- export_audience: one audience to one destination (file formats or a Postgres table),
  full or delta; run_audience: every destination of an audience.
- last_runs, purge_erased: status listing and erasure clean-up of activation tables.
"""

from segmint.activation.audience import (
    FORMATS,
    TARGETING,
    Audience,
    AudienceError,
    Destination,
    check_audience,
    get_audience,
    load_audience_file,
    load_audiences,
    load_dbt_audiences,
    targeting_columns,
    validate_audiences,
)
from segmint.activation.conditions import compile_condition
from segmint.activation.export import (
    ELIGIBLE,
    AudiencePreview,
    ExportResult,
    export_audience,
    holdout_bucket,
    preview_audience,
    run_audience,
)
from segmint.activation.state import ensure_activation_schema, last_runs, purge_erased

__all__ = [
    "ELIGIBLE",
    "FORMATS",
    "TARGETING",
    "Audience",
    "AudienceError",
    "AudiencePreview",
    "Destination",
    "ExportResult",
    "check_audience",
    "compile_condition",
    "ensure_activation_schema",
    "export_audience",
    "get_audience",
    "holdout_bucket",
    "last_runs",
    "load_audience_file",
    "load_audiences",
    "load_dbt_audiences",
    "preview_audience",
    "purge_erased",
    "run_audience",
    "targeting_columns",
    "validate_audiences",
]
