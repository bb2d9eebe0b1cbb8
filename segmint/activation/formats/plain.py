"""Plain exports: customer_key + the audience's columns as CSV, JSON lines or Parquet."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import (
    ExportFormat,
    WriteStats,
    iter_rows,
    text_value,
    without_float_noise,
)


class PlainFormat(ExportFormat):
    """customer_key + the audience's columns, values as stored (CSV / Parquet / JSON lines)."""

    spec = "segmint plain export: customer_key + the audience's columns"
    removals = (
        "The removals file lists the customer_key of every contact that left the audience "
        "(erased customers included); a full export is the whole audience."
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """customer_key then the audience's columns."""
        return ["customer_key", *[c for c in audience.columns if c != "customer_key"]]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """customer_key only."""
        return ["customer_key"]

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        """Write every row of `table` in this format."""
        raise NotImplementedError

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """All selected columns."""
        return self._write(table, fh)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """customer_key only."""
        return self._write(table.select(["customer_key"]), fh)


class CsvFormat(PlainFormat):
    """RFC 4180 CSV with a header row (UTF-8, LF)."""

    name = "csv"
    suffix = ".csv"
    spec = "https://www.rfc-editor.org/rfc/rfc4180"

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        try:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(table.column_names)
            rows = 0
            for row in iter_rows(table):
                writer.writerow([text_value(row[c]) for c in table.column_names])
                rows += 1
            text.flush()
        finally:
            text.detach()
        return WriteStats(rows, 0)


def _json_value(value: Any) -> Any:
    if isinstance(value, date | Decimal):
        return text_value(value)
    if isinstance(value, float):
        return without_float_noise(value) if math.isfinite(value) else None
    return value


class JsonLinesFormat(PlainFormat):
    """One JSON object per line (UTF-8), dates as ISO strings."""

    name = "jsonl"
    suffix = ".jsonl"
    spec = "https://jsonlines.org/"

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        rows = 0
        for row in iter_rows(table):
            clean = {k: _json_value(v) for k, v in row.items()}
            fh.write(json.dumps(clean, ensure_ascii=False, allow_nan=False).encode("utf-8"))
            fh.write(b"\n")
            rows += 1
        return WriteStats(rows, 0)


class ParquetFormat(PlainFormat):
    """Apache Parquet with the warehouse's column types."""

    name = "parquet"
    suffix = ".parquet"
    spec = "https://parquet.apache.org/docs/file-format/"

    def _write(self, table: pa.Table, fh: IO[bytes]) -> WriteStats:
        pq.write_table(table, fh)
        return WriteStats(table.num_rows, 0)
