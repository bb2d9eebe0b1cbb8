"""Meta-learners of uplift on scikit-learn gradient-boosted trees: X-learner (default) and
T-learner (two-model).

Why not causalml: causalml 0.18.0 (the newest, a cp311 wheel) resolves here, but it requires
black, whose current release needs pathspec >= 1.0 while dbt-core pins pathspec < 0.13: pip
upgrades pathspec and breaks dbt. It would also bring xgboost (with a 350 MB NCCL wheel),
lightgbm, shap, numba and statsmodels, for meta-learners that are a few lines over
scikit-learn. So the learners are written here, documented, on well-kept base learners
(HistGradientBoosting: missing features handled natively, the audience as a categorical).

T-learner: mu_1(x) = E[Y | x, treated] fitted on exported members, mu_0(x) on the holdout;
tau(x) = mu_1(x) - mu_0(x).
X-learner (Kunzel, Sekhon, Bickel, Yu 2019, PNAS 116(10)): the same mu_0, mu_1, then imputed
effects D_1 = Y - mu_0(x) on the treated and D_0 = mu_1(x) - Y on the holdout, regressors
tau_1, tau_0 fitted on them, and tau(x) = g tau_0(x) + (1 - g) tau_1(x) with g the share
treated. It is the paper's choice when one group is much larger than the other, which is
every holdout design (10-20% control): tau_0 leans on mu_1, fitted on the large treated
group. The holdout is a hash of customer id and audience, a randomised experiment within
each audience, so g is known: the treated share of that audience's training rows, and no
propensity model is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from ml.uplift.params import ID_COLUMNS, OUTCOMES, TREATMENT, UpliftParams


class NotEnoughOutcomes(Exception):
    """Too few treated or control outcomes to learn an uplift (nothing is written)."""

    def __init__(self, n_treated: int, n_control: int, needed: str) -> None:
        self.n_treated, self.n_control, self.needed = n_treated, n_control, needed
        super().__init__(
            f"not enough outcomes yet ({n_treated} treated, {n_control} control, needed {needed})"
        )


def check_outcomes(frame: pd.DataFrame, params: UpliftParams) -> None:
    """Raise NotEnoughOutcomes below the floors of params (members and purchasers per group)."""
    t = frame[TREATMENT].astype(bool).to_numpy() if len(frame) else np.zeros(0, bool)
    bought = frame["purchased"].astype(bool).to_numpy() if len(frame) else np.zeros(0, bool)
    n_t, n_c = int(t.sum()), int((~t).sum())
    p_t, p_c = int((t & bought).sum()), int((~t & bought).sum())
    if (
        n_t < params.min_treated
        or n_c < params.min_control
        or min(p_t, p_c) < params.min_purchasers
    ):
        raise NotEnoughOutcomes(
            n_t,
            n_c,
            f"{params.min_treated} treated and {params.min_control} control members with "
            f"{params.min_purchasers} purchasers each; have {p_t} and {p_c} purchasers",
        )


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric feature columns of an uplift frame (ids, treatment and outcomes excluded)."""
    skip = {*ID_COLUMNS, TREATMENT, *OUTCOMES}
    return [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])]


def design(frame: pd.DataFrame, features: list[str], audiences: list[str]) -> pd.DataFrame:
    """Model input: the features as floats and the audience as a categorical column."""
    x = frame[features].astype(float)
    x["audience"] = pd.Categorical(frame["audience"], categories=audiences)
    return x


@dataclass
class Effect:
    """The fitted learners of one outcome's effect tau(x)."""

    learner: str  # "x" or "t"
    outcome_models: tuple[Any, Any]  # mu_1, mu_0
    effect_models: tuple[Any, Any] | None  # tau_1, tau_0 (X-learner)
    treated_share: dict[str, float]  # g per audience

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """tau(x) for the rows of a design frame."""
        mu1, mu0 = (_mean(m, x) for m in self.outcome_models)
        if self.effect_models is None:
            return mu1 - mu0
        tau1, tau0 = (m.predict(x) for m in self.effect_models)
        g = x["audience"].astype(str).map(self.treated_share).fillna(0.5).to_numpy(float)
        return g * tau0 + (1.0 - g) * tau1


@dataclass
class UpliftModel:
    """The fitted effects of purchase and revenue, and the columns they expect."""

    features: list[str]
    audiences: list[str]
    purchase: Effect
    revenue: Effect


def _mean(model: Any, x: pd.DataFrame) -> np.ndarray:
    """E[Y | x]: a classifier's probability of 1, or a regressor's prediction."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.predict(x)


def _fit_effect(
    x: pd.DataFrame, y: np.ndarray, t: np.ndarray, binary: bool, params: UpliftParams
) -> Effect:
    common = {
        "max_iter": params.max_iter,
        "learning_rate": params.learning_rate,
        "min_samples_leaf": params.min_samples_leaf,
        "categorical_features": "from_dtype",
        # always stop on a validation split: uplift is a small difference of two fits, and
        # scikit-learn's "auto" would leave the (small) holdout's model unstopped
        "early_stopping": True,
        "validation_fraction": 0.2,
        "random_state": params.seed,
    }
    base = HistGradientBoostingClassifier if binary else HistGradientBoostingRegressor
    mu1, mu0 = (base(**common).fit(x[arm], y[arm]) for arm in (t, ~t))
    share = pd.Series(t).groupby(x["audience"].astype(str).to_numpy()).mean().to_dict()
    if params.learner == "t":
        return Effect("t", (mu1, mu0), None, share)
    d1 = y[t] - _mean(mu0, x[t])
    d0 = _mean(mu1, x[~t]) - y[~t]
    tau1 = HistGradientBoostingRegressor(**common).fit(x[t], d1)
    tau0 = HistGradientBoostingRegressor(**common).fit(x[~t], d0)
    return Effect("x", (mu1, mu0), (tau1, tau0), share)


def fit_uplift(frame: pd.DataFrame, params: UpliftParams) -> UpliftModel:
    """Fit the meta-learner (params.learner) on an uplift frame (marts.uplift_training rows)."""
    check_outcomes(frame, params)
    features = feature_columns(frame)
    audiences = sorted(frame["audience"].astype(str).unique())
    x = design(frame, features, audiences)
    t = frame[TREATMENT].astype(bool).to_numpy()
    bought = frame["purchased"].astype(int).to_numpy()
    revenue = frame["revenue"].astype(float).to_numpy()
    return UpliftModel(
        features,
        audiences,
        _fit_effect(x, bought, t, True, params),
        _fit_effect(x, revenue, t, False, params),
    )


def predict_uplift(model: UpliftModel, frame: pd.DataFrame) -> pd.DataFrame:
    """uplift_purchase (change in purchase probability) and uplift_revenue (base currency)
    of sending each row's audience to each row's customer."""
    rows = frame.reindex(columns=[*model.features, "audience"])
    x = design(rows, model.features, model.audiences)
    return pd.DataFrame(
        {
            "uplift_purchase": model.purchase.predict(x),
            "uplift_revenue": np.round(model.revenue.predict(x), 2),
        },
        index=frame.index,
    )
