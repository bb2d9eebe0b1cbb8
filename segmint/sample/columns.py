"""Arrow columns from numpy arrays: ids, text, timestamps (vectorised)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def int_text(values: np.ndarray) -> pa.Array:
    """Integers rendered as strings (vectorised)."""
    return pc.cast(pa.array(values), pa.string())


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded identifiers like C0000042."""
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(int_text(numbers), width, "0"), "")


def concat(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def take_or_null(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    """vocab[idx] with null where idx < 0."""
    return vocab.take(pa.array(idx, mask=idx < 0))


def timestamps(values: np.ndarray) -> pa.Array:
    """Unix seconds as a naive TIMESTAMP column."""
    return pa.array(values, type=pa.timestamp("s"))


def float_text(values: np.ndarray) -> pa.Array:
    """Floats rendered as strings (vectorised)."""
    return pc.cast(pa.array(values), pa.string())
