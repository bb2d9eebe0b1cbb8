"""Customer segmentation: features -> scaled space -> KMeans/GMM, named, stable ids.

Public API::

    segment(customer_360, params=SegmentationParams(), previous=None, run_at=None)
        -> SegmentationResult(assignments, profiles, run, state, profile_z, projection)

`previous` is the PreviousSegmentation of the last run (rebuild it with
PreviousSegmentation.from_profiles(<last run's ml.segment_profiles rows>)); clusters are
matched to its centroids so segment ids stay put when the data changes little.

Modules: params, space (the clustering space), clustering (k search, stability, baseline),
ids (stable ids), naming, profiles, run. Figures: ml.plots.segmentation.
"""

from ml.segmentation.params import (
    MODEL_NAME,
    PROSPECT_ID,
    PROSPECT_NAME,
    PreviousSegmentation,
    SegmentationParams,
)
from ml.segmentation.run import SegmentationResult, segment

__all__ = [
    "MODEL_NAME",
    "PROSPECT_ID",
    "PROSPECT_NAME",
    "PreviousSegmentation",
    "SegmentationParams",
    "SegmentationResult",
    "segment",
]
