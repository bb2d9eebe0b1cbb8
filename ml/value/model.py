"""Fit the transaction (BG/NBD family) and spend (Gamma-Gamma) models; predict per customer.

Both are PyMC-Marketing models fitted by MAP with a Laplace (quadratic) approximation around
it (pymc_extras.fit_laplace: one optimisation, then draws from the Gaussian at the optimum),
so a nightly run stays fast and still has the parameters' uncertainty. Predictions are the
library's closed forms evaluated on every draw, summarised per customer: a point estimate
(the mean over draws) and a central interval. Import this only after
ml.value.compile_cache.use_compile_cache.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pytensor
import xarray as xr
from pymc.model.fgraph import fgraph_from_model, model_from_fgraph
from pymc_extras import fit_laplace
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel
from pytensor.tensor import TensorConstant

from ml.value.params import HORIZON_DAYS, INPUT_COLUMNS, LONG_HORIZON_DAYS, ValueParams

TRANSACTION_MODELS = {"beta_geo": BetaGeoModel, "modified_beta_geo": ModifiedBetaGeoModel}


@dataclass
class FittedValue:
    """The two fitted models (their idata hold the Laplace draws) and what they were fit on."""

    transactions: Any  # BetaGeoModel | ModifiedBetaGeoModel
    spend: Any  # GammaGammaModel
    n_customers: int
    n_repeat_customers: int

    def parameters(self) -> dict[str, float]:
        """Median of each population parameter's draws (a, b, alpha, r; p, q, v)."""
        out: dict[str, float] = {}
        for model in (self.transactions, self.spend):
            for name, values in model.fit_result.data_vars.items():
                if values.ndim == 2:  # (chain, draw): the population parameters
                    out[str(name)] = round(float(values.median()), 6)
        return out


def model_frame(inputs: pd.DataFrame) -> pd.DataFrame:
    """customer_value_inputs rows in the library's names and types (DECIMAL -> float)."""
    frame = inputs[list(INPUT_COLUMNS)].rename(columns=INPUT_COLUMNS)
    for col in ("frequency", "recency", "T", "monetary_value"):
        frame[col] = pd.to_numeric(frame[col]).astype(float)
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame.reset_index(drop=True)


def _data_as_shared(model: Any) -> Any:
    """The PyMC model with its per-customer constants (T, the observed columns) as shared
    variables of unknown length.

    The library passes them as constants, so PyTensor constant-folds them in every compiled
    function (rewrites that compute on all customers, 34 compiles a fit) and keys its C
    compile cache on their values: every new day's data compiled afresh. As shared inputs the
    compiled graph is the same for any data, so the cache hits and the rewrites are cheap.
    """
    fgraph, _ = fgraph_from_model(model)
    swaps = [
        (var, pytensor.shared(var.data, shape=(None,) * var.ndim))
        for var in fgraph.variables
        if isinstance(var, TensorConstant) and var.ndim >= 1 and var.data.size > 1
    ]
    fgraph.replace_all(swaps, import_missing=True)
    return model_from_fgraph(fgraph, mutate_fgraph=True)


def _laplace(model: Any, params: ValueParams, seed: int) -> None:
    """MAP + Laplace draws into model.idata (posterior: (1 chain, params.draws))."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = fit_laplace(
            model=_data_as_shared(model.model),
            draws=params.draws,
            random_seed=seed,
            progressbar=False,
            include_transformed=False,
            freeze_model=False,  # freezing would turn the shared data back into constants
        )
    model.idata = idata


def fit(inputs: pd.DataFrame, params: ValueParams) -> FittedValue:
    """Fit the transaction model on every customer, Gamma-Gamma on the repeat buyers."""
    logging.getLogger("pymc").setLevel(logging.ERROR)
    # the likelihood sums over customers: a fixed order (not the mart's scan order) makes the
    # floating-point sums, hence the optimiser's path and its result, the same in every run
    frame = model_frame(inputs).sort_values("customer_id", kind="stable", ignore_index=True)
    if frame.empty:
        raise ValueError("no customer with a completed order to fit the value models on")
    repeat = frame[(frame["frequency"] > 0) & (frame["monetary_value"] > 0)]
    if len(repeat) < 2:
        raise ValueError("fewer than 2 repeat buyers: the spend model cannot be fitted")
    transactions = TRANSACTION_MODELS[params.transaction_model]()
    transactions.build_model(frame[["customer_id", "frequency", "recency", "T"]])
    _laplace(transactions, params, params.seed)
    spend = GammaGammaModel()
    spend.build_model(repeat[["customer_id", "frequency", "monetary_value"]])
    _laplace(spend, params, params.seed + 1)
    return FittedValue(transactions, spend, len(frame), len(repeat))


def _draws(array: Any) -> np.ndarray:
    """A (chain, draw, customer_id) result as (draws, customers)."""
    values = np.asarray(array.transpose("chain", "draw", "customer_id").values, dtype=float)
    return values.reshape(-1, values.shape[-1])


def predict(
    fitted: FittedValue, inputs: pd.DataFrame, params: ValueParams, full: bool = True
) -> pd.DataFrame:
    """One row per customer of `inputs`: p_alive, expected purchases and revenue, interval.

    `full=False` (the time split's evaluation) leaves out p_alive and the 365-day revenue,
    which the evaluation does not compare: a third of the prediction time at S1.
    """
    frame = model_frame(inputs)
    tx = fitted.transactions
    # customers with the same (frequency, recency, T) get the same purchase predictions:
    # evaluate each history once (one-time buyers share a few hundred)
    histories, inverse = np.unique(
        frame[["frequency", "recency", "T"]].to_numpy(), axis=0, return_inverse=True
    )
    unique = pd.DataFrame(histories, columns=["frequency", "recency", "T"])
    unique.insert(0, "customer_id", np.arange(len(unique)))
    short = _draws(tx.expected_purchases(unique, future_t=HORIZON_DAYS))[:, inverse]
    spend_frame = frame.assign(
        monetary_value=np.where(frame["frequency"] > 0, frame["monetary_value"], 0.0),
        frequency=np.where(frame["monetary_value"] > 0, frame["frequency"], 0.0),
    )
    spend = _draws(fitted.spend.expected_customer_spend(spend_frame))
    rng = np.random.default_rng(params.seed)
    # pair each transaction draw with a random spend draw (independent approximations)
    spend = spend[rng.integers(0, len(spend), len(short))]
    revenue = short * spend
    tail = (1 - params.interval) / 2
    lower, upper = np.quantile(revenue, [tail, 1 - tail], axis=0)
    out = {
        "customer_id": inputs["customer_id"].to_numpy(),
        "expected_purchases_90d": short.mean(axis=0),
        "expected_avg_order_value": spend.mean(axis=0),
        "predicted_revenue_90d": revenue.mean(axis=0),
        "predicted_revenue_90d_lower": lower,
        "predicted_revenue_90d_upper": upper,
    }
    if full:
        long = _draws(tx.expected_purchases(unique, future_t=LONG_HORIZON_DAYS))[:, inverse]
        out["p_alive"] = _draws(tx.expected_probability_alive(unique))[:, inverse].mean(axis=0)
        out["predicted_revenue_365d"] = (long * spend).mean(axis=0)
    return pd.DataFrame(out)


# A fitted pair as stored by the registry: each model's population parameter draws, shape
# (chain, draw) per parameter ({"transactions": {"a": ..., "b": ...}, "spend": {...}}).
Draws = dict[str, dict[str, np.ndarray]]


def draws_of(fitted: FittedValue) -> Draws:
    """The population parameters' Laplace draws of both models (no customer rows)."""
    return {
        role: {
            str(name): np.asarray(values.values, dtype=float)
            for name, values in model.fit_result.data_vars.items()
            if values.ndim == 2  # (chain, draw): per-customer variables are left out
        }
        for role, model in (("transactions", fitted.transactions), ("spend", fitted.spend))
    }


def _with_draws(model: Any, draws: dict[str, np.ndarray], data: pd.DataFrame) -> Any:
    model.build_model(data)
    posterior = {name: (("chain", "draw"), values) for name, values in draws.items()}
    model.idata = az.InferenceData(posterior=xr.Dataset(posterior))
    return model


def from_draws(draws: Draws, inputs: pd.DataFrame, params: ValueParams) -> FittedValue:
    """The fitted pair back from stored draws, over `inputs`: predict() gives the same
    numbers as with the models they came from (their predictions read only these draws)."""
    frame = model_frame(inputs)
    repeat = frame[(frame["frequency"] > 0) & (frame["monetary_value"] > 0)]
    transactions = _with_draws(
        TRANSACTION_MODELS[params.transaction_model](),
        draws["transactions"],
        frame[["customer_id", "frequency", "recency", "T"]],
    )
    if repeat.empty:
        raise ValueError("no repeat buyer: the spend model has no customer to score")
    spend = _with_draws(
        GammaGammaModel(), draws["spend"], repeat[["customer_id", "frequency", "monetary_value"]]
    )
    return FittedValue(transactions, spend, len(frame), len(repeat))
