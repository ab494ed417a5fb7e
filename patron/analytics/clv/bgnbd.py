"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284).

While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after
each purchase she drops out with probability ``p ~ Beta(a, b)``. Per customer with ``x`` repeat
purchases, last at ``t_x``, observed for ``T`` (eq. 6):

    LL = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
         + ln[ (alpha+T)^-(r+x) + 1{x>0} a/(b+x-1) (alpha+t_x)^-(r+x) ]

evaluated with ``logaddexp`` in log space, with its analytic gradient (digamma functions).
Predictions: P(alive) (eq. 11) and the conditional expectation (eq. 10), whose Gaussian
hypergeometric function is evaluated after Euler's transformation (``_special.bg_tail``), which is
finite for any ``a`` (including ``a <= 1``) and any frequency.
The modified BG/NBD (``mbgnbd.py``) shares this code with ``modified=True``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln

from patron.analytics.clv._fit import Rows, compress, fit_rows, prepare_rows
from patron.analytics.clv._model import TransactionModel
from patron.analytics.clv._special import bg_tail

NAMES = ("r", "alpha", "a", "b")


def bg_objective(phi: np.ndarray, rows: Rows, modified: bool = False):
    """Return the weighted negative log-likelihood and its gradient in log-parameters.

    Terms that depend on the frequency only (gamma and digamma functions) are evaluated once per
    distinct frequency and weighted by its total count. Per row, with ``A3 = -(r+x) ln(alpha+T)``
    and ``A4 = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x)``, the log-sum is
    ``A4 + log1p(e^D)``, ``D = A3 - A4``: one exp and one log1p per row, whose weights
    ``e^D / (1+e^D)`` and ``1 / (1+e^D)`` give the gradient. BG/NBD rows with ``x = 0`` have
    only ``A3``.
    """
    r, al, a, b = np.exp(phi)
    ux, wx = rows.ux, rows.wx
    shift = 1.0 if modified else 0.0
    has4x = np.ones(ux.size, dtype=bool) if modified else ux > 0
    bdx = np.where(has4x, b + ux - 1.0 + shift, 1.0)
    a12 = (
        gammaln(r + ux)
        - gammaln(r)
        + r * np.log(al)
        + gammaln(a + b)
        + gammaln(b + ux + shift)
        - gammaln(b)
        - gammaln(a + b + ux + shift)
    )
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux + shift)
    g_r = wx @ (digamma(r + ux) - digamma(r) + np.log(al))
    g_al = r / al * wx.sum()
    g_a = wx @ (psi_ab - psi_abx)
    g_b = wx @ (psi_ab + digamma(b + ux + shift) - digamma(b) - psi_abx)
    total = float(wx @ a12)
    if not modified:
        zero = rows.zero
        levels = zero.T_levels
        at = al + levels.values
        log_t, inv_t = levels.apply(np.log(at)), levels.apply(np.reciprocal(at))
        s_log = zero.w @ log_t
        total -= r * s_log
        g_r -= s_log
        g_al -= r * (zero.w @ inv_t)
    part = rows.every if modified else rows.repeat
    w, rx = part.w, r + part.x
    c = np.log(a) - np.log(bdx)
    t_levels, tx_levels = part.T_levels, part.tx_levels
    at, atx = al + t_levels.values, al + tx_levels.values
    log_tx = tx_levels.apply(np.log(atx))
    diff = t_levels.apply(np.log(at))
    diff -= log_tx
    inv_t, inv_tx = t_levels.apply(np.reciprocal(at)), tx_levels.apply(np.reciprocal(atx))
    d = c[part.ix]
    total += float(w @ d)
    d += diff * rx
    np.negative(d, out=d)
    e = np.exp(d, out=d)
    rx_log_tx = rx * log_tx
    total -= float(w @ rx_log_tx)
    p4 = 1.0 + e
    total += float(w @ np.log(p4))
    np.reciprocal(p4, out=p4)
    wp4 = np.multiply(w, p4, out=p4)
    wp3 = np.subtract(w, wp4, out=e)
    g_r -= w @ log_tx + wp3 @ diff
    g_al -= (wp3 * rx) @ inv_t + (wp4 * rx) @ inv_tx
    g_a += wp4.sum() / a
    g_b -= np.bincount(part.ix, weights=wp4, minlength=ux.size) @ (1.0 / bdx)
    grad = np.array([g_r, g_al, g_a, g_b]) * np.array([r, al, a, b])
    return -total, -grad


def log_likelihood(params, frequency, recency, T, weights=None, *, modified=False) -> float:
    """Total BG/NBD (or MBG/NBD) log-likelihood at ``params = (r, alpha, a, b)``."""
    rows = prepare_rows(frequency, recency, T, weights)
    with np.errstate(under="ignore"):
        return -bg_objective(np.log(np.asarray(params, dtype=float)), rows, modified)[0]


def bg_expected(params, t, x, tx, T, modified=False):
    """Conditional expected purchases in (T, T+t] (FHL 2005 eq. 10; MBG/NBD with ``modified``)."""
    return next(bg_expected_many(params, [t], x, tx, T, modified))


def bg_expected_many(params, horizons, x, tx, T, modified=False) -> Iterator[np.ndarray]:
    """``bg_expected`` at several horizons: P(alive) and the (x, T) grouping computed once.

    Everything but P(alive) depends on (x, T) only, so it is evaluated per distinct pair.
    """
    r, al, a, b = params
    bb = b + 1.0 if modified else b
    alive = bg_p_alive(params, x, tx, T, modified)
    pairs = compress(x, T, np.zeros(np.size(x)))
    px, pT = pairs.frequency, pairs.recency
    am1 = a - 1.0
    for t in horizons:
        z = t / (al + pT + t)
        log1mz = np.log1p(-z)
        e1 = -np.expm1(am1 * log1mz) / am1 if abs(am1) > 1e-09 else -log1mz
        tail = bg_tail(a + bb - 1.0 - r, a, a + bb + px - 1.0, z)
        numer = (a + bb + px - 1.0) * (e1 - np.exp(am1 * log1mz) * tail)
        yield numer[pairs.inverse] * alive


def bg_p_alive(params, x, tx, T, modified=False):
    """Probability alive at T (FHL 2005 eq. 11; Batislam et al. 2007 for MBG/NBD)."""
    r, al, a, b = params
    has = np.ones(x.size, dtype=bool) if modified else x > 0
    bd = np.where(has, b + x - (0.0 if modified else 1.0), 1.0)
    log_ratio = np.log(a) - np.log(bd) + (r + x) * (np.log(al + T) - np.log(al + tx))
    return np.where(has, expit(-log_ratio), 1.0)


@dataclass(frozen=True)
class BgNbdModel(TransactionModel):
    """Fitted BG/NBD model (Fader, Hardie & Lee 2005)."""

    names = NAMES

    def _expected(self, t, x, tx, T):
        return bg_expected(self._theta(), t, x, tx, T)

    def _expected_many(self, horizons, x, tx, T):
        return bg_expected_many(self._theta(), horizons, x, tx, T)

    def _p_alive(self, x, tx, T):
        return bg_p_alive(self._theta(), x, tx, T)


def fit_bgnbd(frequency, recency, T, weights=None) -> BgNbdModel:
    """Fit the BG/NBD model by maximum likelihood on distinct (x, t_x, T) rows."""
    rows = prepare_rows(frequency, recency, T, weights)
    fit = fit_rows(bg_objective, rows, np.zeros(4))
    return BgNbdModel.from_fit(fit, rows.n_customers)
