"""Activation: audiences over marts.customer_targeting -> holdouts, deltas, exports, syncs.

The rooms, in the order of an export run:
- targeting: the table audiences select from (customer_targeting) and AudienceError;
- audience: audience definitions (YAML files, dbt models tagged `audience`), validated;
- conditions: the condition tree of an audience, checked and compiled to SQL;
- selection: who a run selects (consent and erasure via segmint.privacy), the holdout,
  adds and removes; preview_audience;
- formats: each destination's file layout (formats/<vendor>.py) and the Postgres sync;
- identity: normalisation and hashing of identifiers as the ad platforms specify;
- delivery: files written atomically plus a manifest, or one Postgres transaction;
- state: the activation tables, commit_state after delivery, purge_erased;
- export: export_audience / run_audience, the entry points that run the rooms in order.
(The holdout readout is a dbt model: dbt_project/models/marts/activation/holdout_readout.sql.)

Every function takes a DuckDB connection; nothing global.
"""

from segmint.activation.audience import (
    FORMATS,
    Audience,
    Destination,
    check_audience,
    get_audience,
    load_audience_file,
    load_audiences,
    load_dbt_audiences,
    validate_audiences,
)
from segmint.activation.conditions import compile_condition
from segmint.activation.export import export_audience, run_audience
from segmint.activation.selection import AudiencePreview, holdout_bucket, preview_audience
from segmint.activation.state import ExportResult, ensure_activation_schema, last_runs, purge_erased
from segmint.activation.targeting import TARGETING, AudienceError, targeting_columns

__all__ = [
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
