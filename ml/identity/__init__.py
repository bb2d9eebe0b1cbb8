"""Identity stitching evaluation: pairwise precision and recall against a known truth."""

from ml.identity.evaluate import pairwise_scores, stitching_run

__all__ = ["pairwise_scores", "stitching_run"]
