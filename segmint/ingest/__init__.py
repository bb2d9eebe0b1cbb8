"""Raw landing: discover landing files and load them into raw.* (typed) or quarantine.*.

Every file is read by DuckDB's own readers with every column as text, validated in SQL
against the raw data contract (segmint.contract) and written inside one transaction:
good rows to ``raw.<table>``, bad rows to ``quarantine.<table>`` with a machine-readable
reason and their source line, and one row to ``raw.load_ledger``. Files whose content hash
is already loaded are skipped, so re-running ingest is a no-op.

Erased people (``segmint forget``) stay out: a row is suppressed when its customer_id is in
``raw.erasure_ledger``, its order_id is an erased order or, for anonymous rows (no
customer_id), its anonymous_id is an erased device (``raw.erasure_identifiers``); every
ledger value is a keyed hash (segmint.privacy). A suppressed row is quarantined with
reason ``erased_customer`` and every value blanked, so it counts as quarantined (read =
loaded + quarantined still holds per file) and ``rows_suppressed`` says how many of the
quarantined rows were suppressed.

The rooms, in the order a file passes them: discovery (which table a file belongs to),
staging + stage_csv / stage_json / stage_parquet (the file as text with physical lines),
validation (typed values and quarantine reasons), ledger (raw.load_ledger and the schema),
load (the run), report (what happened).
"""

from segmint.ingest.discovery import discover
from segmint.ingest.ledger import LEDGER_COLUMNS, ensure_schema
from segmint.ingest.load import ingest
from segmint.ingest.report import (
    IGNORED,
    LOADED,
    REFUSED,
    SKIPPED,
    FileResult,
    IngestError,
    IngestReport,
    Progress,
)
from segmint.ingest.validation import ERASED_REASON

__all__ = [
    "ERASED_REASON",
    "IGNORED",
    "LEDGER_COLUMNS",
    "LOADED",
    "REFUSED",
    "SKIPPED",
    "FileResult",
    "IngestError",
    "IngestReport",
    "Progress",
    "discover",
    "ensure_schema",
    "ingest",
]
