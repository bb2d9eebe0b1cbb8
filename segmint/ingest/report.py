"""What an ingest run did: per-file results, totals, and messages safe to print."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from segmint.errors import SegmintError

Progress = Callable[[str, int, int], None]

LOADED = "loaded"
SKIPPED = "skipped_already_loaded"
REFUSED = "refused"
IGNORED = "ignored"

_EMAIL = re.compile(r"[^\s'\"<>@]+@[^\s'\"<>@]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


class IngestError(SegmintError):
    """A user-facing ingest failure with a one-line message (printed without traceback)."""


class Refused(Exception):
    """The current file is refused whole; the message names file and reason."""


def safe_message(message: str) -> str:
    """First line of an error message with anything like an email or phone masked."""
    line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    line = _PHONE.sub("<redacted>", _EMAIL.sub("<redacted>", line))
    return line[:300]


@dataclass
class FileResult:
    """What happened to one landing file."""

    table: str | None
    file: str
    file_hash: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    status: str
    message: str
    file_format: str | None = None
    # Of rows_quarantined: rows of erased people (reason erased_customer, values blanked).
    rows_suppressed: int = 0


@dataclass
class IngestReport:
    """Per-file results of one ingest run plus totals."""

    landing: str
    warehouse: str
    files: list[FileResult] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_read(self) -> int:
        """Rows read from files processed in this run."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        """Rows written to raw.* in this run."""
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        """Rows written to quarantine.* in this run."""
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_suppressed(self) -> int:
        """Of the quarantined rows: erased people's rows kept out (values blanked)."""
        return sum(f.rows_suppressed for f in self.files)

    @property
    def files_loaded(self) -> int:
        """Files loaded in this run."""
        return self._count(LOADED)

    @property
    def files_skipped(self) -> int:
        """Files skipped because their content was already loaded."""
        return self._count(SKIPPED)

    @property
    def files_refused(self) -> int:
        """Files refused whole (wrong columns, unreadable)."""
        return self._count(REFUSED)

    @property
    def files_ignored(self) -> int:
        """Files under landing that match no table."""
        return self._count(IGNORED)

    @property
    def totals(self) -> dict[str, int]:
        """All totals as one dict."""
        return {
            "files_loaded": self.files_loaded,
            "files_skipped": self.files_skipped,
            "files_refused": self.files_refused,
            "files_ignored": self.files_ignored,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_suppressed": self.rows_suppressed,
        }

    def per_table(self) -> dict[str, dict[str, int]]:
        """Row totals per table for files processed in this run."""
        out: dict[str, dict[str, int]] = {}
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_suppressed")
        for f in self.files:
            if f.table is None:
                continue
            t = out.setdefault(f.table, dict.fromkeys(keys, 0))
            for k in keys:
                t[k] += getattr(f, k)
        return out

    def summary(self) -> str:
        """One line for humans: files and rows (counts only, never values)."""
        t = self.totals
        erased = f" ({t['rows_suppressed']} of erased people)" if t["rows_suppressed"] else ""
        return (
            f"{t['files_loaded']} file(s) loaded, {t['files_skipped']} already loaded, "
            f"{t['files_refused']} refused, {t['files_ignored']} ignored; "
            f"{t['rows_read']} rows read, {t['rows_loaded']} loaded, "
            f"{t['rows_quarantined']} quarantined{erased}"
        )
