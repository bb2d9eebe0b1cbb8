"""Predictive customer value: BG/NBD-family + Gamma-Gamma (PyMC-Marketing), MAP + Laplace.

Call ml.value.compile_cache.use_compile_cache before importing ml.value.run or ml.value.model
(they import PyMC, which imports PyTensor and reads its compile-cache flags once).
"""

from ml.value.params import HORIZON_DAYS, MODEL_NAME, SCORE_COLUMNS, ValueParams

__all__ = ["HORIZON_DAYS", "MODEL_NAME", "SCORE_COLUMNS", "ValueParams"]
