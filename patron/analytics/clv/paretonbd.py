"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who are
they and what will they do next?", Management Science 33(1); likelihood as in Fader & Hardie 2005,
"A note on deriving the Pareto/NBD model and related expressions").

While active, purchases are Poisson with rate ``lambda ~ Gamma(r, alpha)``; lifetimes are
exponential with rate ``mu ~ Gamma(s, beta)``. With ``m = max(alpha, beta)``, per customer:

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s
                                         + s/(r+s+x) (F(t_x) - F(T)) ]
    F(y) = 2F1(r+s+x, b; r+s+x+1; |alpha-beta| / (m+y)) / (m+y)^(r+s+x)

with ``b = s+1`` if ``alpha >= beta`` else ``b = r+x``. Numerics: everything is in log space; the
difference ``F(t_x) - F(T)`` as ``log F(t_x) + log1p(-exp(log F(T) - log F(t_x)))`` and the sum
with ``logaddexp``. Each 2F1 is Euler-transformed, ``2F1(a, b; a+1; z) = (1-z)^(1-b)
2F1(1, a+1-b; a+1; z)``, a series of positive terms each at most ``z`` times the previous one,
summed in blocks (``_special.hyp_1b_c``): no overflow for any frequency or T.

Gradient: analytic. The derivatives of 2F1 in its parameters are the term-by-term derivatives of
the same series (digamma differences as running harmonic sums), in its argument the standard
``n t_n / z`` series. Where ``z > 1/2`` the series would be slow (200,000 terms at
``z = 1 - 1e-4``): F is the series at ``z = 1/2`` plus a fixed-size Gauss-Legendre quadrature
(``_log_f``), derivatives under the integral. Accuracy vs a 60-digit reference: see
tests/analytics/test_clv_extremes.py. The
Hessian for standard errors is a finite difference of this analytic gradient (see ``_fit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln

from patron.analytics.clv._fit import Rows, check_rfm, fit_rows, prepare_rows
from patron.analytics.clv._model import TransactionModel
from patron.analytics.clv._special import hyp_1b_c, softplus_integral

NAMES = ("r", "alpha", "s", "beta")
# Terms enough for the series at z <= 1/2 (each term at most half the previous one).
SERIES_TERMS = 96


def _log_f(r, al, s, be, x, y, grad: bool, work=None):
    """log F(y) and (with ``grad``) its derivatives in (r, alpha, s, beta), per row.

    Where the 2F1 argument ``z`` is at most 1/2 the series converges in ``SERIES_TERMS`` terms.
    Above, ``F(y) = a int_y^Y h + F(Y)`` with ``h(tau) = (alpha+tau)^-(r+x) (beta+tau)^-(s+1)``
    and ``z(Y) = 1/2``: the series at ``Y`` plus a fixed-size quadrature on [y, Y].
    """
    y = np.asarray(y, dtype=float)
    kappa, m = min(al, be), max(al, be)
    near = m - kappa > kappa + y  # z > 1/2
    y_series = np.where(near, m - 2.0 * kappa, y)
    series = _log_f_series(r, al, s, be, x, y_series, grad, work)
    if not near.any():
        return series
    quad = _log_q(r, al, s, be, x[near], y[near], grad)
    lf = series[0].copy() if grad else series.copy()
    lf_s = lf[near]
    lf[near] = np.logaddexp(quad[0] if grad else quad, lf_s)
    if not grad:
        return lf
    dlf = series[1].copy()
    w_q = np.exp(quad[0] - lf[near])
    dlf[:, near] = w_q * quad[1] + np.exp(lf_s - lf[near]) * dlf[:, near]
    return lf, dlf


def _log_f_series(r, al, s, be, x, y, grad: bool, work=None):
    """log F(y) by the Euler-transformed series, for rows with ``z <= 1/2``."""
    a = r + s + x
    high_alpha = al >= be
    kappa, m = (be, al) if high_alpha else (al, be)
    z = (m - kappa) / (m + y)
    b, b1 = (s + 1.0, r + x) if high_alpha else (r + x, s + 1.0)
    lm = np.log(m + y)
    log1mz = np.log(kappa + y) - lm  # 1 - z = (kappa+y)/(m+y), without cancellation
    if not grad:
        return (
            (1.0 - b) * log1mz
            + hyp_1b_c(b1, a + 1.0, z, max_terms=SERIES_TERMS, work=work)
            - a * lm
        )
    lg, g_b1, g_c, g_z = hyp_1b_c(b1, a + 1.0, z, grad=True, max_terms=SERIES_TERMS, work=work)
    value = (1.0 - b) * log1mz + lg - a * lm
    d_z = -(1.0 - b) * (m + y) / (kappa + y) + g_z
    if high_alpha:
        d_r = g_b1 + g_c - lm
        d_s = -log1mz + g_c - lm
        d_al = d_z * (be + y) / (al + y) ** 2 - a / (al + y)
        d_be = -d_z / (al + y)
    else:
        d_r = -log1mz + g_c - lm
        d_s = g_b1 + g_c - lm
        d_be = d_z * (al + y) / (be + y) ** 2 - a / (be + y)
        d_al = -d_z / (be + y)
    return value, np.array([d_r, d_al, d_s, d_be])


def _log_q(r, al, s, be, x, y, grad: bool):
    """log of ``a int_y^Y h(tau) d tau`` (``Y = m - 2 kappa``) and its parameter derivatives.

    With ``kappa + tau = d e^u`` (``d = m - kappa``) the integral is
    ``d^-a int_{-L}^0 exp((1 - k) u - j log(1+e^u)) du``, k and j the exponents of the
    ``kappa`` and ``m`` factors of h, ``L = log(d / (kappa + y))``. Derivatives are taken under the
    integral at fixed ``Y``: the ``Y``-dependence cancels against that of ``F(Y)``.
    """
    a = r + s + x
    high_alpha = al >= be
    kappa, m = (be, al) if high_alpha else (al, be)
    k_exp, j_exp = (s + 1.0, r + x) if high_alpha else (r + x, s + 1.0)
    d = m - kappa
    log_d = np.log(d)
    log_i, e_u, e_sp, e_inv_k, e_inv_m = softplus_integral(
        1.0 - k_exp, j_exp, log_d - np.log(kappa + y)
    )
    value = np.log(a) - a * log_d + log_i
    if not grad:
        return value
    d_k, d_j = -(log_d + e_u), -(log_d + e_sp)
    d_kappa, d_m = -k_exp / d * e_inv_k, -j_exp / d * e_inv_m
    if high_alpha:
        derivs = [d_j + 1.0 / a, d_m, d_k + 1.0 / a, d_kappa]
    else:
        derivs = [d_k + 1.0 / a, d_kappa, d_j + 1.0 / a, d_m]
    return value, np.array(derivs)


def _log_diff(lf_t, lf_T):
    """Return log(F(t_x) - F(T)) (``-inf`` where equal) and ``e = F(T) / F(t_x)``."""
    e = np.minimum(np.exp(lf_T - lf_t), 1.0)
    pos = e < 1.0
    out = np.full(e.shape, -np.inf)
    out[pos] = lf_t[pos] + np.log1p(-e[pos])
    return out, e


def _row_terms(r, al, s, be, x, T, log_d):
    """The two log-terms of each customer's likelihood, their log-sum and the log-likelihood."""
    q1 = -(r + x) * np.log(al + T) - s * np.log(be + T)
    q2 = np.log(s) - np.log(r + s + x) + log_d
    lse = np.logaddexp(q1, q2)
    return q1, q2, lse, gammaln(r + x) - gammaln(r) + r * np.log(al) + s * np.log(be) + lse


def customer_log_likelihood(params, frequency, recency, T, work=None) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (no compression); ``work`` as in ``hyp_1b_c``."""
    x, tx, tt = check_rfm(frequency, recency, T)
    r, al, s, be = map(float, params)
    lf = _log_f(r, al, s, be, np.r_[x, x], np.r_[tx, tt], grad=False, work=work)
    log_d, _ = _log_diff(lf[: x.size], lf[x.size :])
    return _row_terms(r, al, s, be, x, tt, log_d)[3]


def pnbd_objective(phi: np.ndarray, rows: Rows):
    """Return the weighted negative log-likelihood and its gradient in log-parameters.

    F(y) depends on (x, y) only: it is evaluated once per distinct (x, t_x) and (x, T) pair.
    """
    theta = np.exp(phi)
    r, al, s, be = theta
    x, T, w = rows.x, rows.T, rows.w
    lf, dlf = _log_f(r, al, s, be, rows.pair_x, rows.pair_y, grad=True)
    it, i_T = rows.pair_tx, rows.pair_T
    lf_t, lf_T, d_t, d_T = lf[it], lf[i_T], dlf[:, it], dlf[:, i_T]
    log_d, e = _log_diff(lf_t, lf_T)
    a = r + s + x
    q1, q2, lse, ll = _row_terms(r, al, s, be, x, T, log_d)
    w1, w2 = np.exp(q1 - lse), np.exp(q2 - lse)
    k2 = np.exp(np.log(s) - np.log(a) + lf_t - lse)
    d_mix = k2 * (d_t - e * d_T)
    d_r = digamma(r + x) - digamma(r) + np.log(al) - w1 * np.log(al + T) - w2 / a
    d_al = r / al - w1 * (r + x) / (al + T)
    d_s = np.log(be) - w1 * np.log(be + T) + w2 * (1.0 / s - 1.0 / a)
    d_be = s / be - w1 * s / (be + T)
    grad = (np.array([d_r, d_al, d_s, d_be]) + d_mix) @ w
    return -float(w @ ll), -grad * theta


def log_likelihood(params, frequency, recency, T, weights=None) -> float:
    """Total Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)``."""
    rows = prepare_rows(frequency, recency, T, weights, pairs=True)
    with np.errstate(under="ignore"):
        return -pnbd_objective(np.log(np.asarray(params, dtype=float)), rows)[0]


def pnbd_p_alive(params, x, tx, T):
    """P(alive at T | x, t_x, T) (Fader & Hardie 2005 note, eq. 18)."""
    r, al, s, be = params
    n = x.size
    lf = _log_f(r, al, s, be, np.r_[x, x], np.r_[tx, T], grad=False)
    log_d, _ = _log_diff(lf[:n], lf[n:])
    a = r + s + x
    log_ratio = np.log(s) - np.log(a) + (r + x) * np.log(al + T) + s * np.log(be + T) + log_d
    return expit(-log_ratio)


def pnbd_expected(params, t, x, tx, T):
    """E[X(T, T+t) | x, t_x, T] = P(alive) (r+x)(beta+T)/((alpha+T)(s-1)) [1 - (..)^(s-1)]."""
    r, al, s, be = params
    log_growth = np.log1p(t / (be + T))
    sm1 = s - 1.0
    factor = -np.expm1(-sm1 * log_growth) / sm1 if abs(sm1) > 1e-09 else log_growth
    return pnbd_p_alive(params, x, tx, T) * (r + x) * (be + T) / (al + T) * factor


@dataclass(frozen=True)
class ParetoNbdModel(TransactionModel):
    """Fitted Pareto/NBD model (Schmittlein, Morrison & Colombo 1987)."""

    names = NAMES

    def _expected(self, t, x, tx, T):
        return pnbd_expected(self._theta(), t, x, tx, T)

    def _p_alive(self, x, tx, T):
        return pnbd_p_alive(self._theta(), x, tx, T)


def fit_paretonbd(frequency, recency, T, weights=None) -> ParetoNbdModel:
    """Fit the Pareto/NBD model by maximum likelihood on distinct (x, t_x, T) rows."""
    rows = prepare_rows(frequency, recency, T, weights, pairs=True)
    fit = fit_rows(pnbd_objective, rows, np.zeros(4))
    return ParetoNbdModel.from_fit(fit, rows.n_customers)
