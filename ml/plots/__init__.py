"""Figures of the model runs: each module draws from a model's result and imports the model,
never the reverse. ``figures(result)`` returns {file name: matplotlib Figure}.

Every figure is made for a marketer: its title states the takeaway computed from the data
(style.headline), the subtitle names the data window, axes and features are in words
(words.feature_words) and a model is drawn next to its simple baseline.
"""
