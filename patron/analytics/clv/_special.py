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

Rows needing more than ``MAX_TERMS`` terms (only when ``z > 1 - 1e-3`` or so) are truncated there.
"""

from __future__ import annotations

import numpy as np

BLOCK = 24
MAX_TERMS = 200_000
EPS = 1e-17


def hyp_1b_c(b, c, z, *, grad: bool = False):
    """Return log 2F1(1, b; c; z) and, with ``grad``, d/db, d/dc, d/dz of that log."""
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
        while rows.size and start < MAX_TERMS:
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
        while rows.size and start < MAX_TERMS:
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
