"""The model registry: versioned fitted models on disk, a champion per model, when to retrain,
and the gate a retrained model passes to become champion. One module every family uses.

Layout under the registry root (``<warehouse dir>/models``)::

    <model>/<version>/payload...    the fitted object (joblib by default, or the family's
                                    own writer, e.g. Prophet's JSON) and meta.json (training
                                    window, params, metrics, code version, file checksums)
    <model>/champion.json           which version scores, and when it was last reviewed

Every write is atomic: an artifact is written into a hidden temp folder, fsynced, then
renamed into place; the champion pointer is a temp file renamed over the old one. A crash
at any point leaves the previous champion loadable. A missing or corrupt artifact is a
`RegistryProblem` with a one-line reason, which `select` turns into a retrain.

`select` is the lifecycle: load the champion, list the reasons to retrain (first run,
``--retrain``, code changed, cadence, window moved, feature drift), and either score with
the champion or fit a challenger, compare both on the challenger's held-out window and keep
the better one (the challenger wins unless it is worse than the champion by more than the
tolerance).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from ml import evaluation
from ml.runs import to_json
from segmint.fs import file_sha256, fsync_dir, pid_alive, write_json_atomic

META = "meta.json"
POINTER = "champion.json"
Writer = Callable[[Any, Path], None]
Reader = Callable[[Path], Any]

# Decisions recorded in ml.model_runs.decision
FIRST_RUN = "first_run"
PROMOTED = "promoted"
KEPT = "kept_champion"
SCORED = "scored_with_champion"


class RegistryProblem(Exception):
    """An artifact or champion pointer that cannot be used (missing, corrupt, unreadable)."""


@dataclass(frozen=True)
class Policy:
    """When a model retrains and how much worse a challenger may be and still win."""

    cadence_days: int = 7  # as-of days between retrains
    tolerance: float = 0.01  # challenger metric >= champion metric - tolerance: promoted
    psi_threshold: float = 0.2  # any input feature's PSI above this: retrain
    retrain: bool = False  # forced (`segmint run --retrain`, a Dagster run tag)


def joblib_write(payload: Any, folder: Path) -> None:
    joblib.dump(payload, folder / "model.joblib")


def joblib_read(folder: Path) -> Any:
    return joblib.load(folder / "model.joblib")


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


_LEFTOVER = re.compile(r"^\..+\.(tmp|old)-(\d+)-[0-9a-f]+$")


def _sweep(folder: Path) -> None:
    """Remove the temp folders of saves whose process died (a crash mid-save)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and path.is_dir() and not pid_alive(int(match.group(2))):
            shutil.rmtree(path, ignore_errors=True)


class ModelStore:
    """Fitted models under `root`, one folder per model and version."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def folder(self, model: str, version: str) -> Path:
        return self.root / model / version

    def save(
        self, model: str, version: str, payload: Any, meta: Mapping[str, Any], write: Writer
    ) -> Path:
        """Write the payload and its meta.json atomically (temp folder, fsync, rename).

        A version already stored intact is kept as it is: a version is a hash of the params,
        data window and code, so a refit of it is the same model, and the champion's folder
        is never replaced under it.
        """
        target = self.folder(model, version)
        _sweep(target.parent)
        if target.exists():
            try:
                self.meta(model, version)
                return target
            except RegistryProblem:
                pass  # damaged: replace it below
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{version}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            write(payload, tmp)
            files = {p.name: file_sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            record = {**json.loads(to_json(dict(meta))), "model": model, "version": version}
            (tmp / META).write_text(json.dumps({**record, "files": files}, sort_keys=True))
            _fsync_tree(tmp)
            if target.exists():  # a damaged copy of this version: replace it
                old = target.parent / f".{version}.old-{os.getpid()}-{secrets.token_hex(4)}"
                os.rename(target, old)
                os.rename(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, target)
            fsync_dir(target.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def meta(self, model: str, version: str) -> dict[str, Any]:
        """The artifact's meta.json, after checking every payload file's checksum."""
        folder = self.folder(model, version)
        try:
            meta = json.loads((folder / META).read_text())
            files = meta["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RegistryProblem(f"{folder}: no readable {META} ({type(exc).__name__})") from None
        for name, digest in files.items():
            path = folder / name
            if not path.is_file() or file_sha256(path) != digest:
                raise RegistryProblem(f"{path}: missing or changed since it was saved")
        return meta

    def load(self, model: str, version: str, read: Reader) -> tuple[Any, dict[str, Any]]:
        """(payload, meta) of a stored version; RegistryProblem when it cannot be used."""
        meta = self.meta(model, version)
        try:
            return read(self.folder(model, version)), meta
        except Exception as exc:  # unpickling garbage raises anything
            raise RegistryProblem(
                f"{self.folder(model, version)}: cannot load ({type(exc).__name__})"
            ) from None

    def pointer(self, model: str) -> dict[str, Any] | None:
        """The champion pointer (None before the first run)."""
        path = self.root / model / POINTER
        if not path.exists():
            return None
        try:
            pointer = json.loads(path.read_text())
            str(pointer["version"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RegistryProblem(f"{path}: unreadable ({type(exc).__name__})") from None
        return pointer

    def set_pointer(self, model: str, pointer: Mapping[str, Any]) -> None:
        """Replace the champion pointer atomically."""
        write_json_atomic(self.root / model / POINTER, json.loads(to_json(dict(pointer))))


@dataclass
class Fitted:
    """A freshly fitted model: what to store, its version and its held-out metric."""

    payload: Any
    version: str
    metric: float | None
    meta: dict[str, Any]  # as_of, window, params, metrics, code version
    context: Any = None  # in memory only (e.g. the held-out rows the champion is scored on)


@dataclass
class Family:
    """What `select` needs of a model family (everything else stays in the family).

    fit: fits a challenger on this run's data. evaluate(champion payload, challenger):
    the champion's metric on the challenger's held-out window (None: cannot tell).
    inputs: today's model inputs; when set, a payload with a drift `reference` profile
    (ml.evaluation.drift_profile of its training inputs) and `drift_frame(inputs)` is
    checked for drift (the largest PSI). horizon_days: the champion retrains once its
    training as-of is more than this many days old, whatever the cadence.
    """

    model: str
    metric: str
    fit: Callable[[], Fitted]
    evaluate: Callable[[Any, Fitted], float | None]
    code: str
    as_of: Any  # the data's as-of day (a date, timestamp or ISO string; None: unknown)
    higher_is_better: bool = True
    inputs: pd.DataFrame | None = None
    # A reason to refit when the champion cannot serve today's data (None: it can).
    compatible: Callable[[Any], str | None] | None = None
    horizon_days: int | None = None
    write: Writer = joblib_write
    read: Reader = joblib_read

    def __post_init__(self) -> None:
        self.as_of = None if self.as_of is None else pd.Timestamp(self.as_of).date()


@dataclass
class Selection:
    """The model that scores this run, and the registry decision recorded with the run."""

    payload: Any
    version: str
    meta: dict[str, Any]
    decision: dict[str, Any]
    fitted: Fitted | None = None  # set when this run fitted a challenger

    @property
    def trained_now(self) -> bool:
        return self.decision["decision"] != SCORED


@dataclass
class _Champion:
    payload: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    pointer: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.payload is not None


def _load_champion(store: ModelStore, family: Family) -> _Champion:
    try:
        pointer = store.pointer(family.model)
        if pointer is None:
            return _Champion()
        payload, meta = store.load(family.model, str(pointer["version"]), family.read)
    except RegistryProblem as exc:
        return _Champion(problem=str(exc))
    return _Champion(payload, meta, pointer)


def _days(later: date | None, earlier: Any) -> int | None:
    if later is None or not earlier:
        return None
    return (pd.Timestamp(later) - pd.Timestamp(earlier)).days


def retrain_reasons(
    pointer: Mapping[str, Any] | None,
    policy: Policy,
    code: str,
    as_of: date | None,
    horizon_days: int | None = None,
    drift_psi: float | None = None,
) -> list[str]:
    """Why this run must retrain (empty: score with the champion).

    Cadence and code are measured from the champion's last review (its training, or the
    last retrain it won), so a kept champion is not refit on every run; the window check
    from the data it trained on. An as-of before the champion's training is always a
    retrain: the champion has seen data from after the cutoff.
    """
    if pointer is None:
        return [FIRST_RUN]
    reasons = ["requested"] if policy.retrain else []
    if pointer.get("reviewed_code") != code:
        reasons.append("code_changed")
    reviewed = _days(as_of, pointer.get("reviewed_as_of"))
    trained = _days(as_of, pointer.get("trained_as_of"))
    if (reviewed is None) != (as_of is None) or (trained is not None and trained < 0):
        reasons.append("as_of_changed")
    elif reviewed is not None and reviewed >= policy.cadence_days:
        reasons.append("cadence")
    if horizon_days is not None and trained is not None and trained > horizon_days:
        reasons.append("window_moved")
    if drift_psi is not None and drift_psi > policy.psi_threshold:
        reasons.append("drift")
    return reasons


def decide(
    challenger: float | None,
    champion: float | None,
    tolerance: float,
    higher_is_better: bool = True,
) -> str:
    """PROMOTED unless the challenger is worse than the champion by more than `tolerance`.

    A metric that cannot be computed (None/NaN) does not block: with no champion metric the
    challenger wins; with no challenger metric the champion stays.
    """
    if not _finite(champion):
        return PROMOTED
    if not _finite(challenger):
        return KEPT
    sign = 1.0 if higher_is_better else -1.0
    return PROMOTED if sign * (challenger - champion) >= -tolerance else KEPT


def _finite(value: float | None) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def max_psi(profile: Mapping[str, Any] | None, frame: pd.DataFrame) -> float | None:
    """The largest PSI of `frame`'s columns against a drift profile (None: nothing to compare)."""
    drift = evaluation.feature_drift(profile, frame)
    values = pd.to_numeric(drift["psi"], errors="coerce").dropna() if len(drift) else []
    return float(max(values)) if len(values) else None


def choose(
    family: Family,
    registry: tuple[ModelStore, Policy] | None,
    log: Callable[[str], None] = print,
) -> Selection:
    """`select` with a registry (store, policy); without one, always fit (no store)."""
    if registry is not None:
        return select(registry[0], family, registry[1], log)
    fitted = family.fit()
    decision = {"decision": FIRST_RUN, "reasons": ["no_registry"]}
    return Selection(fitted.payload, fitted.version, fitted.meta, decision, fitted)


def select(
    store: ModelStore, family: Family, policy: Policy, log: Callable[[str], None] = print
) -> Selection:
    """Score with the champion, or fit a challenger and keep the better one (see module doc)."""
    champion = _load_champion(store, family)
    if champion.problem:
        log(f"{family.model}: champion unusable, retraining: {champion.problem}")
    psi = None
    if champion.ok and family.inputs is not None and hasattr(champion.payload, "reference"):
        frame = champion.payload.drift_frame(family.inputs)
        psi = max_psi(champion.payload.reference, frame)
    pointer = champion.pointer if champion.ok else None
    reasons = retrain_reasons(pointer, policy, family.code, family.as_of, family.horizon_days, psi)
    if champion.ok and family.compatible is not None:
        reasons += [r for r in [family.compatible(champion.payload)] if r]
    if champion.problem:
        reasons = ["champion_unusable"]
    base = {"reasons": reasons, "drift_max_psi": psi, "metric": family.metric}
    if not reasons:
        version = str(champion.pointer["version"])
        decision = {**base, "decision": SCORED, "champion_version": version}
        log(f"{family.model}: scoring with champion {version} (no retrain due)")
        return Selection(champion.payload, version, champion.meta, decision)
    log(f"{family.model}: retraining ({', '.join(reasons)})")
    fitted = family.fit()
    store.save(family.model, fitted.version, fitted.payload, fitted.meta, family.write)
    champ_metric = family.evaluate(champion.payload, fitted) if champion.ok else None
    if champion.ok:
        verdict = decide(fitted.metric, champ_metric, policy.tolerance, family.higher_is_better)
    else:
        verdict = FIRST_RUN
    decision = {
        **base,
        "decision": verdict,
        "challenger_version": fitted.version,
        "challenger_metric": fitted.metric,
        "champion_version": champion.pointer.get("version") if champion.ok else None,
        "champion_metric": champ_metric,
        "tolerance": policy.tolerance,
    }
    review = {"reviewed_as_of": family.as_of, "reviewed_code": family.code}
    if verdict == KEPT:
        store.set_pointer(family.model, {**champion.pointer, **review})
        log(f"{family.model}: kept champion {champion.pointer['version']} ({decision})")
        return Selection(champion.payload, str(champion.pointer["version"]), champion.meta,
                         decision, fitted)  # fmt: skip
    store.set_pointer(
        family.model,
        {"version": fitted.version, "trained_as_of": family.as_of, **review},
    )
    log(f"{family.model}: {verdict} {fitted.version}")
    return Selection(fitted.payload, fitted.version, fitted.meta, decision, fitted)
