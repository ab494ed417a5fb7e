"""Series for the Gaussian hypergeometric functions the CLV models need, summed in blocks.

Both series are summed term by term in NumPy blocks of ``BLOCK`` terms over the rows that have
not converged yet, so a few slow rows (argument close to 1) do not slow the rest.

* ``hyp_1b_c(b, c, z)``: ``2F1(1, b; c; z) = sum_n (b)_n / (c)_n z^n`` for ``0 <= z < 1`` and
  ``c > b > 0``. All terms are positive and each is at most ``z`` times the previous one, so the
  sum is between 1 and ``1/(1-z)`` and never overflows. Its derivatives in ``b``, ``c`` and ``z``
  are the same series with the analytic term derivatives (harmonic sums ``psi(b+n) - psi(b)``),
  so the gradient of the Pareto/NBD likelihood is analytic term by term (no finite differences).
* ``bg_tail(A, a, C, z)``: ``H = sum_{n>=1} (A)_n (a)_{n-1} / ((C)_n n!) z^n``, the part of
  ``2F1(A, a-1; C; z) = 1 + (a-1) H`` that remains after factoring out ``a-1`` (used by the BG/NBD
  conditional expectation, Fader, Hardie & Lee 2005, eq. 10, after Euler's transformation).

* ``softplus_integral(c1, M, L)``: ``log int_{-L}^0 exp(c1 u - M log(1+e^u)) du`` by composite
  Gauss-Legendre quadrature with a fixed number of nodes (``PANELS * NODES``), used by the
  Pareto/NBD likelihood where its 2F1 argument is above 1/2 and the series would converge slowly.

``hyp_1b_c`` stops after ``max_terms`` terms (default ``MAX_TERMS``); ``bg_tail`` after
``BG_MAX_TERMS`` (only reached when ``z > 1 - 1e-3`` or so).
"""

from __future__ import annotations

import numpy as np

BLOCK = 24
MAX_TERMS = 200_000
BG_MAX_TERMS = 200_000
EPS = 1e-17
PANELS, NODES = 8, 16
# Beyond this many e-folds below its largest value the integrand is dropped (log-concave).
TRUNCATE_EFOLDS = 46.0


def hyp_1b_c(b, c, z, *, grad: bool = False, max_terms: int = MAX_TERMS, work=None):
    """Return log 2F1(1, b; c; z) and, with ``grad``, d/db, d/dc, d/dz of that log.

    ``work``, if a list, gets the number of terms summed for the slowest row appended.
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, c, z)))
    b, c, z = b.ravel(), c.ravel(), z.ravel()
    n = z.size
    total = np.ones(n)
    s_b, s_c, s_z = np.zeros(n), np.zeros(n), np.zeros(n)
    term = np.ones(n)
    h_b, h_c = np.zeros(n), np.zeros(n)
    rows = np.flatnonzero(z > 0)
    start = 0
    k = np.arange(BLOCK, dtype=float)
    with np.errstate(under="ignore"):
        while rows.size and start < max_terms:
            bk = b[rows, None] + (start + k)
            ck = c[rows, None] + (start + k)
            terms = term[rows, None] * np.cumprod(bk / ck * z[rows, None], axis=1)
            total[rows] += terms.sum(axis=1)
            if grad:
                hb = h_b[rows, None] + np.cumsum(1.0 / bk, axis=1)
                hc = h_c[rows, None] + np.cumsum(1.0 / ck, axis=1)
                s_b[rows] += (terms * hb).sum(axis=1)
                s_c[rows] += (terms * hc).sum(axis=1)
                s_z[rows] += (terms * (start + 1.0 + k)).sum(axis=1)
                h_b[rows], h_c[rows] = hb[:, -1], hc[:, -1]
            term[rows] = terms[:, -1]
            start += BLOCK
            zr = z[rows]
            bound = term[rows] * (start + 1.0) ** 2 / (1.0 - zr) ** 3
            rows = rows[bound > EPS * total[rows]]
    if work is not None:
        work.append(start)
    log_total = np.log(total)
    if not grad:
        return log_total
    d_z = np.divide(s_z, z * total, out=b / c, where=z > 0)
    return log_total, s_b / total, -s_c / total, d_z


def bg_tail(A, a, C, z):
    """Return ``sum_{n>=1} (A)_n (a)_{n-1} / ((C)_n n!) z^n`` for ``0 <= z < 1``, ``C > 0``."""
    A, a, C, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, a, C, z)))
    A, a, C, z = A.ravel(), a.ravel(), C.ravel(), z.ravel()
    n = z.size
    total = np.zeros(n)
    term = np.zeros(n)
    rows = np.flatnonzero(z > 0)
    term[rows] = A[rows] / C[rows] * z[rows]
    total[rows] = term[rows]
    start = 1
    k = np.arange(BLOCK, dtype=float)
    with np.errstate(under="ignore"):
        while rows.size and start < BG_MAX_TERMS:
            nk = start + k
            ratio = (A[rows, None] + nk) * (a[rows, None] + nk - 1.0)
            ratio = ratio / ((C[rows, None] + nk) * (nk + 1.0)) * z[rows, None]
            terms = term[rows, None] * np.cumprod(ratio, axis=1)
            total[rows] += terms.sum(axis=1)
            term[rows] = terms[:, -1]
            start += BLOCK
            last = np.maximum(np.abs(ratio[:, -1]), z[rows])
            tail = np.abs(term[rows]) / np.maximum(1.0 - last, 1e-300)
            scale = np.abs(total[rows]) + 1.0 / C[rows]
            rows = rows[(last >= 1.0) | (tail > EPS * scale)]
    return total


def softplus_integral(c1, M, L):
    """Return ``log I`` and the I-weighted means of u, log(1+e^u), e^-u and 1/(1+e^u).

    ``I = int_{-L}^0 exp(c1 u - M log(1+e^u)) du`` for ``L > 0``, ``M >= 0``. The exponent is
    concave in u, so the range is first cut where it has fallen ``TRUNCATE_EFOLDS`` below its
    value at the nearer end (bounded by the tangent there); the rest is split into ``PANELS``
    equal panels of ``NODES`` Gauss-Legendre nodes each: a fixed amount of work per row.
    """
    c1, M, L = np.broadcast_arrays(*(np.asarray(v, dtype=float).ravel() for v in (c1, M, L)))
    slope_lo = c1 - M / (1.0 + np.exp(L))
    slope_hi = c1 - 0.5 * M
    tiny = 1e-300
    lo = np.where(slope_hi > 0, np.maximum(-L, -TRUNCATE_EFOLDS / np.maximum(slope_hi, tiny)), -L)
    hi = np.where(
        slope_lo < 0, np.minimum(0.0, lo + TRUNCATE_EFOLDS / np.maximum(-slope_lo, tiny)), 0.0
    )
    nodes, weights = _gauss_panels()
    half = 0.5 * (hi - lo)
    u = lo[:, None] + half[:, None] * nodes
    sp = np.logaddexp(0.0, u)
    expo = c1[:, None] * u - M[:, None] * sp
    top = expo.max(axis=1, keepdims=True)
    mass = np.exp(expo - top) * weights
    total = mass.sum(axis=1)
    log_i = top[:, 0] + np.log(total) + np.log(half)
    pi = mass / total[:, None]
    means = [(pi * f).sum(axis=1) for f in (u, sp, np.exp(-u), np.exp(-sp))]
    return log_i, *means


def _gauss_panels():
    """Nodes in [0, 2] and weights of ``PANELS`` composite ``NODES``-point Gauss-Legendre rules."""
    t, w = np.polynomial.legendre.leggauss(NODES)
    edges = np.arange(PANELS)[:, None] * (2.0 / PANELS)
    nodes = (edges + (t + 1.0) / PANELS).ravel()
    return nodes, np.tile(w / PANELS, PANELS)
