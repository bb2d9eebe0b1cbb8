"""A sensor that starts ingest and everything downstream when new files land."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from segmint.contract import FILE_SUFFIXES


def landing_fingerprint(landing: Path) -> dict[str, str]:
    """{relative path: size:mtime} for every candidate file in the landing folder."""
    if not landing.is_dir():
        return {}
    found: dict[str, str] = {}
    for p in sorted(landing.rglob("*")):
        if p.is_file() and p.suffix.lower() in FILE_SUFFIXES:
            st = p.stat()
            found[str(p.relative_to(landing))] = f"{st.st_size}:{st.st_mtime_ns}"
    return found


def landing_sensor(job, landing: Path) -> dg.SensorDefinition:
    """Request a run of `job` whenever files were added or changed since the last tick."""

    @dg.sensor(
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Starts ingest + downstream when new files land in {landing}",
    )
    def new_landing_files(context: dg.SensorEvaluationContext):
        current = landing_fingerprint(landing)
        previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        new = sorted(k for k, v in current.items() if previous.get(k) != v)
        if not new:
            return dg.SkipReason(f"no new files in {landing}")
        digest = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
        context.update_cursor(json.dumps(current, sort_keys=True))
        return dg.RunRequest(
            run_key=f"landing-{digest}",
            tags={"segmint/new_files": str(len(new))},
        )

    return new_landing_files
