"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
iso-value curves for customer base analysis", Journal of Marketing Research 42(4), 415-430;
Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

Transaction values are ``Gamma(p, nu)`` around a customer mean ``p/nu`` with ``nu ~ Gamma(q,
gamma)``. For a customer with ``x`` repeat transactions of mean value ``m``:

    LL = ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln m + px ln x
         - (px+q) ln(gamma + m x)

Fitted on customers with ``x > 0`` and ``m > 0`` (others carry no spend information), analytic
gradient (digamma). Expected spend (eq. 5) shrinks a customer's mean towards the population mean
``p gamma / (q-1)``: ``E[Z | x, m] = (p (gamma + x m)) / (p x + q - 1)``. Money is in whatever
unit ``monetary`` is given in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from patron.analytics import AnalyticsInputError
from patron.analytics.clv._fit import maximize

NAMES = ("p", "q", "gamma")


def _rows(frequency, monetary, weights=None):
    x = np.atleast_1d(np.asarray(frequency, dtype=float))
    m = np.atleast_1d(np.asarray(monetary, dtype=float))
    w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=float)
    if not (x.shape == m.shape == w.shape):
        raise AnalyticsInputError("frequency, monetary and weights must have the same shape")
    if not (np.isfinite(x).all() and np.isfinite(m).all() and np.isfinite(w).all()):
        raise AnalyticsInputError("frequency, monetary or weights contain NaN or infinite values")
    if (x < 0).any() or (m < 0).any() or (w < 0).any():
        raise AnalyticsInputError("frequency, monetary and weights must be >= 0")
    keep = (x > 0) & (m > 0) & (w > 0)
    if keep.sum() < 2:
        raise AnalyticsInputError("need at least two customers with repeat purchases and spend")
    return x[keep], m[keep], w[keep]


@dataclass(frozen=True)
class SpendRows:
    """Fitting rows with the parameter-free parts of the likelihood computed once.

    Gamma and digamma terms depend on ``x`` only and are evaluated per distinct frequency
    (``ix`` indexes them); ``ln m`` and ``ln x`` are constants. Each evaluation then costs one
    log per row; the per-row terms are still combined before summing, as in the textbook
    formula, so the sums do not lose precision to large opposite totals.
    """

    ux: np.ndarray
    ix: np.ndarray
    x: np.ndarray
    mx: np.ndarray
    w: np.ndarray
    log_m: np.ndarray
    log_mx: np.ndarray

    @classmethod
    def build(cls, x, m, w) -> SpendRows:
        """Index the rows by frequency and precompute the logs."""
        ux, ix = np.unique(x, return_inverse=True)
        log_m = np.log(m)
        return cls(ux, ix.ravel(), x, m * x, w, log_m, log_m + np.log(x))

    def objective(self, phi):
        """Return the weighted negative log-likelihood and its gradient in log-parameters."""
        theta = np.exp(phi)
        p, q, g = theta
        x, w, ix = self.x, self.w, self.ix
        pu = p * self.ux
        px = p * x
        gm = g + self.mx
        log_gm = np.log(gm)
        log_g = np.log(g)
        psi_u = digamma(pu + q)
        ll = (gammaln(pu + q) - gammaln(pu) - gammaln(q) + q * log_g)[ix]
        ll += px * self.log_mx - self.log_m - (px + q) * log_gm
        d_p = (psi_u - digamma(pu))[ix] + self.log_mx - log_gm
        d_q = (psi_u - digamma(q) + log_g)[ix] - log_gm
        d_g = q / g - (px + q) / gm
        grad = np.array([w @ (x * d_p), w @ d_q, w @ d_g]) * theta
        return -float(w @ ll), -grad


def gg_objective(phi, x, m, w):
    """Return the weighted negative log-likelihood and its gradient in log-parameters."""
    return SpendRows.build(x, m, w).objective(phi)


def log_likelihood(params, frequency, monetary, weights=None) -> float:
    """Total Gamma-Gamma log-likelihood at ``params = (p, q, gamma)``."""
    x, m, w = _rows(frequency, monetary, weights)
    return -gg_objective(np.log(np.asarray(params, dtype=float)), x, m, w)[0]


@dataclass(frozen=True)
class GammaGammaModel:
    """Fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005)."""

    params: dict[str, float]
    log_likelihood: float
    std_errors: dict[str, float]
    n_customers: int

    def expected_spend(self, frequency, monetary) -> np.ndarray:
        """Expected value of a future transaction per customer (population mean when x = 0)."""
        p, q, g = (self.params[k] for k in NAMES)
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary, dtype=float)
        if q <= 1.0:
            raise AnalyticsInputError("q <= 1: the Gamma-Gamma mean spend is infinite")
        if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any():
            raise AnalyticsInputError("frequency or monetary contain NaN, inf or negatives")
        return p * (g + x * m) / (p * x + q - 1.0)


def fit_gamma_gamma(frequency, monetary, weights=None) -> GammaGammaModel:
    """Fit the Gamma-Gamma model on customers with repeat purchases (x > 0, m > 0)."""
    x, m, w = _rows(frequency, monetary, weights)
    rows = SpendRows.build(x, m, w)
    fit = maximize(rows.objective, np.zeros(3), w.sum())
    return GammaGammaModel(
        params=dict(zip(NAMES, map(float, fit.params), strict=True)),
        log_likelihood=float(fit.log_likelihood),
        std_errors=dict(zip(NAMES, map(float, fit.std_errors), strict=True)),
        n_customers=round(w.sum()),
    )
