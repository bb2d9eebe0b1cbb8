"""What every export format shares: the format interface, CSV writing, cell values.

Every format turns rows of marts.customer_targeting (as a pyarrow table) into a members
file and a removals file (delta mode). Removal files carry only the identifier the
destination needs to drop the contact (no attributes).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa

from segmint.activation.audience import Audience, Destination

CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "city", "country", "postal_code")
BATCH_ROWS = 10_000


@dataclass(frozen=True)
class WriteStats:
    """Rows written and rows skipped for lack of a usable identifier."""

    rows: int
    skipped: int


def without_float_noise(value: float) -> float:
    """The float at 15 significant digits: a value computed in binary floating point (an
    average of amounts, 0.1 + 0.2) loses the noise of its last bits (1490.0000000000002 ->
    1490.0), while every figure a person or a decimal source wrote keeps its digits."""
    return float(f"{value:.15g}") if math.isfinite(value) else value


def text_value(value: Any) -> str:
    """A cell as text: '' for null, true/false, ISO dates, plain numbers (DECIMAL money with
    its cents, floats without binary noise)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(without_float_noise(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def iter_rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    """Rows of an arrow table as dicts, a batch at a time."""
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        yield from batch.to_pylist()


def extra_columns(audience: Audience, taken: tuple[str, ...]) -> list[str]:
    return [c for c in audience.columns if c not in taken and c != "customer_key"]


class ExportFormat:
    """Base of every format: which columns it reads and how it writes them."""

    name: str = ""
    suffix: str = ".csv"
    spec: str = ""  # where the layout is documented

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns of customer_targeting this format reads for members."""
        raise NotImplementedError

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns it reads for removals."""
        raise NotImplementedError

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Write the members (or adds) file."""
        raise NotImplementedError

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Write the removals file."""
        raise NotImplementedError


class CsvVendorFormat(ExportFormat):
    """A header row and one row per contact (UTF-8, comma, double-quote quoting, LF)."""

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """The header row."""
        raise NotImplementedError

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """The cells of one member, or None when it has no usable identifier."""
        raise NotImplementedError

    def removal_header(self, dest: Destination) -> list[str]:
        """The header row of the removals file."""
        raise NotImplementedError

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """The cells of one removal, or None when it has no usable identifier."""
        raise NotImplementedError

    def _write(
        self, fh: IO[bytes], header: list[str], rows: Iterator[list[str] | None]
    ) -> WriteStats:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        try:
            writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            written = skipped = 0
            for values in rows:
                if values is None:
                    skipped += 1
                    continue
                writer.writerow(values)
                written += 1
            text.flush()
        finally:
            text.detach()
        return WriteStats(written, skipped)

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one row per member with an identifier."""
        rows = (self.member_values(r, audience, dest) for r in iter_rows(table))
        return self._write(fh, self.header(audience, dest), rows)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one identifier row per removed contact."""
        rows = (self.removal_values(r, dest) for r in iter_rows(table))
        return self._write(fh, self.removal_header(dest), rows)


class HashedIdentifierFormat(CsvVendorFormat):
    """An ad platform's customer list: identifiers only, normalised and SHA-256 hashed as the
    platform specifies (_ids and member_values); removals send the hashed email and phone."""

    header_row: tuple[str, ...] = ()
    used: tuple[str, ...] = ()
    removal_header_row: tuple[str, ...] = ()

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Identifiers only (the platform takes nothing else)."""
        return ["customer_key", *self.used]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Email and phone (and country for the phone)."""
        return ["customer_key", "email", "phone", "country"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """The platform's column names."""
        return list(self.header_row)

    def _ids(self, row: dict[str, Any]) -> tuple[str | None, str | None]:
        """Hashed email and phone of a row (None where missing or unusable)."""
        raise NotImplementedError

    def removal_header(self, dest: Destination) -> list[str]:
        """Email and phone, named as the platform names them."""
        return list(self.removal_header_row)

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """Hashed email and phone of the contact to remove."""
        email, phone = self._ids(row)
        return [email or "", phone or ""] if (email or phone) else None
