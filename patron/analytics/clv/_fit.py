"""Shared maximum-likelihood machinery: input checks, row compression, optimiser, standard errors.

Models are fitted on log-parameters with ``scipy.optimize.minimize(method="L-BFGS-B")`` and the
model's analytic gradient, from fixed start values (deterministic: no randomness anywhere). The
data are first compressed to distinct ``(frequency, recency, T)`` rows with their counts as
weights. Standard errors come from the inverse of the Hessian of the negative log-likelihood in
log-parameters, obtained by central finite differences of the *analytic* gradient, mapped to the
original scale with the delta method (``se(theta) = theta * se(log theta)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from patron.analytics import AnalyticsInputError
from patron.analytics.summary import compress_rows

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Rows:
    """Validated, compressed customer rows for fitting."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    n_customers: int
    ux: np.ndarray
    ix: np.ndarray
    wx: np.ndarray
    pair_x: np.ndarray
    pair_y: np.ndarray
    pair_tx: np.ndarray
    pair_T: np.ndarray


def check_rfm(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate per-customer (frequency, recency, T) arrays and return them as floats."""
    x, tx, tt = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (frequency, recency, T))
    if not (x.shape == tx.shape == tt.shape):
        raise AnalyticsInputError("frequency, recency and T must have the same shape")
    if x.size == 0:
        raise AnalyticsInputError("no customers")
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(tt).all()):
        raise AnalyticsInputError("frequency, recency or T contains NaN or infinite values")
    if (x < 0).any() or (tx < 0).any() or (tt < 0).any():
        raise AnalyticsInputError("frequency, recency and T must be >= 0")
    if (tx > tt * (1 + 1e-12)).any():
        raise AnalyticsInputError("recency is larger than T for some customer")
    if ((x == 0) & (tx > 0)).any():
        raise AnalyticsInputError("customers without repeat purchases must have recency 0")
    return x, tx, tt


def prepare_rows(frequency, recency, T, weights=None) -> Rows:
    """Validate and compress rows to distinct (x, t_x, T) with summed weights."""
    x, tx, tt = check_rfm(frequency, recency, T)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != x.shape or not np.isfinite(weights).all() or (weights < 0).any():
            raise AnalyticsInputError("weights must be finite, >= 0 and match frequency")
    comp = compress_rows(x, tx, tt, weights)
    keep = comp.weights > 0
    n = round(comp.weights.sum())
    if n < 2:
        raise AnalyticsInputError("need at least two customers to fit a model")
    if not (comp.frequency[keep] > 0).any():
        raise AnalyticsInputError("nobody has a repeat purchase; the model cannot be fitted")
    x, w = comp.frequency[keep], comp.weights[keep]
    ux, ix = np.unique(x, return_inverse=True)
    wx = np.bincount(ix, weights=w, minlength=ux.size)
    tx, tt = comp.recency[keep], comp.T[keep]
    pairs = compress_rows(np.r_[x, x], np.r_[tx, tt], np.zeros(2 * x.size))
    inv = pairs.inverse
    return Rows(
        x, tx, tt, w, n, ux, ix, wx, pairs.frequency, pairs.recency, inv[: x.size], inv[x.size :]
    )


@dataclass(frozen=True)
class Fit:
    """Result of a maximum-likelihood fit on the original parameter scale."""

    params: np.ndarray
    log_likelihood: float
    std_errors: np.ndarray


def maximize(objective: Objective, start: np.ndarray, total_weight: float) -> Fit:
    """Minimise a negative log-likelihood over log-parameters; return estimates and std errors."""

    def scaled(phi):
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            try:
                f, g = objective(phi)
            except FloatingPointError:
                return np.inf, np.zeros_like(phi)
        return f / total_weight, g / total_weight

    bounds = [(-12.0, 12.0)] * start.size
    opts = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000, "maxls": 50}
    res = minimize(scaled, start, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    if not np.isfinite(res.fun):
        raise AnalyticsInputError("the likelihood could not be evaluated at any start value")
    phi = res.x
    theta = np.exp(phi)
    return Fit(theta, -float(res.fun) * total_weight, _std_errors(objective, phi, theta))


def hessian(objective: Objective, phi: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central finite-difference Hessian of the objective, from its analytic gradient."""
    k = phi.size
    hess = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        hess[i] = (objective(phi + e)[1] - objective(phi - e)[1]) / (2 * step)
    return 0.5 * (hess + hess.T)


def _std_errors(objective: Objective, phi: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Delta-method standard errors; ``inf`` where the Hessian is not positive definite."""
    with np.errstate(under="ignore"):
        hess = hessian(objective, phi)
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return np.full(theta.size, np.inf)
    cov = np.linalg.inv(hess)
    return theta * np.sqrt(np.clip(np.diag(cov), 0.0, None))
