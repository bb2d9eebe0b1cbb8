"""Figures of the model runs: each module draws from a model's result and imports the model,
never the reverse. ``figures(result)`` returns {file name: matplotlib Figure}."""
