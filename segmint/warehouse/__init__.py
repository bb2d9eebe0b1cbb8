"""The DuckDB warehouse: connections, the exclusive-use lock, the published snapshot.

- connection: `connect`, `check_database_file` (short-lived, one writer at a time); list_tables and
  table_columns come from segmint.catalog;
- lock: `exclusive_use` (one run or erasure at a time), WarehouseBusy;
- snapshot: `publish` (analyst-facing schemas to a new file, swapped in atomically);
- manifest: `read_manifest`, `verify_published`.
"""

from segmint.catalog import list_tables, table_columns
from segmint.warehouse.connection import check_database_file, connect
from segmint.warehouse.lock import WarehouseBusy, exclusive_use, lock_path
from segmint.warehouse.manifest import MANIFEST_TABLE, read_manifest, verify_published
from segmint.warehouse.snapshot import PUBLISHED_SCHEMAS, publish

__all__ = [
    "MANIFEST_TABLE",
    "PUBLISHED_SCHEMAS",
    "WarehouseBusy",
    "check_database_file",
    "connect",
    "exclusive_use",
    "list_tables",
    "lock_path",
    "publish",
    "read_manifest",
    "table_columns",
    "verify_published",
]
