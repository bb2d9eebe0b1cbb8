"""A faster hand-over of the Stan data file to CmdStan (a patch of one cmdstanpy call)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any


def fast_stan_json(model: Any) -> None:
    """Hand CmdStan its data as a file written by the C JSON encoder (same bytes, faster).

    cmdstanpy writes the data dict through stanio, which (without ujson) walks every value
    in Python and streams it through the pure-Python JSON encoder: for a two-year series
    with ~100 seasonal/holiday columns that was 10-15% of a fit's CPU seconds. Prophet has
    already turned the data into plain lists and numbers, so ``json.dumps`` (C encoder)
    writes the byte-identical file in well under half the time; fits are unchanged.
    """
    cmdstan = getattr(getattr(model, "stan_backend", None), "model", None)
    optimize = getattr(cmdstan, "optimize", None)
    if optimize is None:
        return

    def fast_optimize(*args: Any, data: Any = None, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return optimize(*args, data=data, **kwargs)
        try:
            text = json.dumps(data, allow_nan=True)
        except TypeError:  # something numpy-typed: let stanio handle it
            return optimize(*args, data=data, **kwargs)
        fd, path = tempfile.mkstemp(prefix="segmint_stan_", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return optimize(*args, data=path, **kwargs)
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)

    cmdstan.optimize = fast_optimize
