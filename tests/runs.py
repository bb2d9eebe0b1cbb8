"""What several test packages share about whole pipeline runs: per-table checksums of a
warehouse (for idempotency and determinism) and the analyst process that reads the published
file in a loop while runs execute (for concurrent readers)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Wall-clock columns: when a row was loaded / scored / trained / exported, not what it says.
# They differ between two runs of the same inputs by construction, so checksums skip them.
RUNTIME_COLUMNS = frozenset(
    {
        "_loaded_at",  # raw/staging load time, carried into facts for incremental models
        "scored_at",  # ml.churn_scores / ml.customer_segments: when the model scored
        "trained_at",  # ml.model_runs: when the model was trained
        "computed_at",  # ml tables that stamp their own computation time
        "created_at",
        "dbt_updated_at",  # snapshot bookkeeping (only wall clock when updated_at is null)
        "merged_at",  # marts.identity_merges: when the run recorded the merge
    }
)


# Outputs that depend on the previous run by design, so a rerun on the same warehouse
# differs from the first run: ml.model_runs is an append-only history, ml.feature_drift
# compares with the previous run's profile, segment_profiles.matched_previous says whether
# a segment was matched to the previous run's.
STATEFUL_TABLES = frozenset({"ml.model_runs", "ml.feature_drift"})
STATEFUL_COLUMNS = frozenset({"matched_previous"})


TIMING_KEYS = ("seconds", "duration")


def _strip(value, digits: int = 9):
    """`value` without timing keys, floats to `digits` significant digits."""
    if isinstance(value, dict):
        return {
            k: _strip(v, digits)
            for k, v in value.items()
            if not any(t in k.lower() for t in TIMING_KEYS)
        }
    if isinstance(value, list):
        return [_strip(v, digits) for v in value]
    if isinstance(value, float):  # last-bit noise of threaded reductions (KMeans inertia)
        return float(f"{value:.{digits}g}")
    return value


def _strip_timings(text: str | None) -> str | None:
    """A JSON document without keys that measure elapsed time (fit_seconds, duration_s),
    floats rounded to 9 significant digits like the DOUBLE columns."""
    if text is None:
        return None
    return json.dumps(_strip(json.loads(text)), sort_keys=True)


def table_checksums(
    db: Path, schemas: tuple[str, ...], exclude: frozenset[str] = RUNTIME_COLUMNS
) -> dict[str, tuple[int, str]]:
    """(row count, order-independent checksum) per base table of `schemas`.

    Each row is rendered as text over its columns in name order (minus `exclude`), hashed,
    and the per-row hashes are sorted and hashed again, so row order does not matter.
    Doubles are rounded to 9 significant digits to ignore last-bit noise of parallel sums.
    """
    out: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        con.create_function(
            "json_strip_timings", _strip_timings, ["VARCHAR"], "VARCHAR", null_handling="special"
        )
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            f"and table_schema in ({','.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in tables:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() and table_schema = ? "
                "and table_name = ? order by column_name",
                [schema, table],
            ).fetchall()
            parts = []
            for name, type_ in cols:
                if name in exclude:
                    continue
                ref = f'"{name}"'
                if type_ == "JSON":
                    # Durations measured inside metrics JSON are wall-clock too.
                    ref = f"json_strip_timings({ref})"
                if type_ in ("DOUBLE", "FLOAT", "REAL"):
                    ref = f"round({ref}, 9 - cast(ceil(log10(abs({ref}) + 1e-300)) as int))"
                parts.append(f"coalesce(cast({ref} as varchar), '<null>')")
            row_text = " || '|' || ".join(parts) if parts else "''"
            rows = con.execute(
                f'select md5({row_text}) as h from "{schema}"."{table}" order by h'
            ).fetchall()
            digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
            out[f"{schema}.{table}"] = (len(rows), digest)
    return out


READER = textwrap.dedent(
    """
    import duckdb, os, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    errors = reads = waits = 0
    while not os.path.exists(stop):
        if not os.path.exists(path):
            waits += 1
            time.sleep(0.1)
            continue
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                n = con.execute("select count(*) from marts.customer_360").fetchone()[0]
                m = con.execute(
                    "select count(*) from ml.churn_scores s "
                    "join marts.customer_360 c using (customer_key)"
                ).fetchone()[0]
                assert n > 0 and m > 0, (n, m)
            finally:
                con.close()
            reads += 1
        except Exception as exc:
            errors += 1
            print("ERROR", repr(exc), flush=True)
        time.sleep(0.05)
    print("RESULT", errors, reads, waits, flush=True)
    """
)


@dataclass
class ReaderResult:
    errors: int
    reads: int
    waits: int
    output: str


class AnalystReader:
    """READER in a subprocess from `start()` until `stop()`, polling `published`."""

    def __init__(self, published: Path, stop_file: Path) -> None:
        self.published, self.stop_file = published, stop_file
        self.proc: subprocess.Popen | None = None

    def start(self) -> AnalystReader:
        self.stop_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(self.published), str(self.stop_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def stop(self) -> ReaderResult:
        self.stop_file.touch()
        assert self.proc is not None
        out, _ = self.proc.communicate(timeout=120)
        result = [line for line in out.splitlines() if line.startswith("RESULT")]
        errors, reads, waits = (int(x) for x in result[-1].split()[1:]) if result else (-1, 0, 0)
        return ReaderResult(errors, reads, waits, out)
