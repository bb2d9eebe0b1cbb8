"""Uplift learned from the audiences' own holdouts (marts.uplift_training): a T-learner on
scikit-learn base learners, evaluated by Qini / AUUC against random targeting and by the
realised uplift of targeting the top share by uplift vs by churn risk (ml.uplift.policy)."""

from ml.uplift.model import NotEnoughOutcomes, UpliftModel, fit_uplift, predict_uplift
from ml.uplift.params import MODEL_NAME, UpliftParams
from ml.uplift.qini import auuc, qini_coefficient, qini_curve
from ml.uplift.run import UpliftResult, run_uplift

__all__ = [
    "MODEL_NAME",
    "NotEnoughOutcomes",
    "UpliftModel",
    "UpliftParams",
    "UpliftResult",
    "auuc",
    "fit_uplift",
    "predict_uplift",
    "qini_coefficient",
    "qini_curve",
    "run_uplift",
]
