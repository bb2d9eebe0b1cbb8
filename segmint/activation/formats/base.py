"""What every export format shares: the format interface, CSV writing, cell values.

Every format turns rows of marts.customer_targeting (as a pyarrow table) into a members
file (full mode) or an adds file (delta mode), and a removals file. Removal files carry
only the identifier the destination needs to drop the contact (no attributes). Removal
rows of erased customers come with their contact columns empty and `_erasure` set: the
hashed identifiers `segmint forget` kept for the destinations (identity.erasure_hashes),
never the contact data itself.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import pyarrow as pa

from segmint.activation.audience import Audience, Destination

CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "city", "country", "postal_code")
ERASURE_COLUMN = "_erasure"  # JSON of the hashed identifiers of an erased customer
BATCH_ROWS = 10_000
NO_IDENTIFIER = "no_identifier"


@dataclass(frozen=True)
class WriteStats:
    """Rows written, rows skipped for lack of a usable identifier, and values dropped from
    written rows (an invalid phone is left out, the row still goes) counted by reason."""

    rows: int
    skipped: int
    dropped: dict[str, int] = field(default_factory=dict)


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


def erasure_of(row: dict[str, Any]) -> dict[str, str] | None:
    """The kept hashes of an erased customer's removal row (None for a plain removal)."""
    raw = row.get(ERASURE_COLUMN)
    if raw is None:
        return None
    return dict(json.loads(raw)) if isinstance(raw, str) else dict(raw)


def is_erased_row(row: dict[str, Any]) -> bool:
    """Whether a removal row is an erased customer's (contact columns empty)."""
    return bool(row.get("_erased")) or row.get(ERASURE_COLUMN) is not None


def extra_columns(audience: Audience, taken: tuple[str, ...]) -> list[str]:
    return [c for c in audience.columns if c not in taken and c != "customer_key"]


class ExportFormat:
    """Base of every format: which columns it reads and how it writes them."""

    name: str = ""
    suffix: str = ".csv"
    removal_suffix: str | None = None  # default: suffix
    spec: str = ""  # where the layout is documented
    # True when the destination can replace a whole list with a full export; otherwise a
    # full export also sends removals of members who left (known from segmint's state).
    supports_replace: bool = True
    removals: str = ""  # how the removals file is applied at the destination (manifest)
    # Erased customers' removals in a file of their own (the vendor's delete format) with
    # this role and suffix; None: they go into the removals file.
    erasure_suffix: str | None = None

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns of customer_targeting this format reads for members."""
        raise NotImplementedError

    def optional_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns it sends when customer_targeting has them (Meta's doby, gen, st)."""
        return []

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Columns it reads for removals."""
        raise NotImplementedError

    def job(self, audience: Audience, dest: Destination, role: str) -> dict[str, Any] | None:
        """Import settings the destination needs for a file of this role (manifest)."""
        return None

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

    def write_erasures(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Write the erasures file (formats with an erasure_suffix)."""
        raise NotImplementedError


class CsvVendorFormat(ExportFormat):
    """A header row and one row per contact (UTF-8, comma, double-quote quoting, LF)."""

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """The header row."""
        raise NotImplementedError

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """The cells of one member, or None when it has no usable identifier."""
        raise NotImplementedError

    def removal_header(self, audience: Audience, dest: Destination) -> list[str]:
        """The header row of the removals file."""
        raise NotImplementedError

    def removal_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """The cells of one removal, or None when it has no usable identifier."""
        raise NotImplementedError

    def _write(
        self,
        fh: IO[bytes],
        header: list[str],
        rows: Iterator[list[str] | None],
        drops: Counter[str],
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
        return WriteStats(written, skipped, dict(sorted(drops.items())))

    def write_members(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one row per member with an identifier."""
        drops: Counter[str] = Counter()
        rows = (self.member_values(r, audience, dest, drops) for r in iter_rows(table))
        return self._write(fh, self.header(audience, dest), rows, drops)

    def write_removals(
        self, table: pa.Table, fh: IO[bytes], audience: Audience, dest: Destination
    ) -> WriteStats:
        """Header + one identifier row per removed contact."""
        drops: Counter[str] = Counter()
        rows = (self.removal_values(r, audience, dest, drops) for r in iter_rows(table))
        return self._write(fh, self.removal_header(audience, dest), rows, drops)


class HashedIdentifierFormat(CsvVendorFormat):
    """An ad platform's customer list: identifiers only, normalised and SHA-256 hashed as the
    platform specifies (_ids and member_values); removals send the hashed email and phone
    (for an erased customer the hashes kept at erasure, under email_hash / phone_hash)."""

    header_row: tuple[str, ...] = ()
    used: tuple[str, ...] = ()
    removal_header_row: tuple[str, ...] = ()
    email_hash = ""  # key of identity.erasure_hashes for this platform's email hash
    phone_hash = ""

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Identifiers only (the platform takes nothing else)."""
        return ["customer_key", *self.used]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Email and phone (and country for the phone)."""
        return ["customer_key", "email", "phone", "country"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """The platform's column names."""
        return list(self.header_row)

    def _ids(
        self, row: dict[str, Any], drops: Counter[str] | None
    ) -> tuple[str | None, str | None]:
        """Hashed email and phone of a row (None where missing or unusable)."""
        raise NotImplementedError

    def removal_header(self, audience: Audience, dest: Destination) -> list[str]:
        """Email and phone, named as the platform names them."""
        return list(self.removal_header_row)

    def removal_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Hashed email and phone of the contact to remove."""
        kept = erasure_of(row)
        if kept is not None:
            email, phone = kept.get(self.email_hash), kept.get(self.phone_hash)
        elif is_erased_row(row):
            email = phone = None
        else:
            email, phone = self._ids(row, drops)
        if not (email or phone):
            return None
        return [email or "", phone or ""]
