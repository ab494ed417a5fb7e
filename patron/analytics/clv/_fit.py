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
from functools import cached_property

import numpy as np
from scipy.optimize import minimize

from patron.analytics import AnalyticsInputError
from patron.analytics.summary import CompressedSummary

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
RowObjective = Callable[[np.ndarray, "Rows"], tuple[float, np.ndarray]]
# Above this many distinct rows the fit starts from a fit on SAMPLE_SIZE evenly spaced rows.
SAMPLE_ABOVE, SAMPLE_SIZE, PROBE_SIZE = 200_000, 50_000, 20_000
GTOL = 1e-10
# The Hessian for standard errors is recomputed if the optimum is farther than this from it.
HESSIAN_MOVE = 1e-4


@dataclass(frozen=True)
class RowPart:
    """A subset of the fitting rows (contiguous copies, for per-iteration loops)."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ix: np.ndarray

    @cached_property
    def T_levels(self) -> Levels:
        """The distinct values of T."""
        return Levels.of(self.T)

    @cached_property
    def tx_levels(self) -> Levels:
        """The distinct values of t_x."""
        return Levels.of(self.tx)


@dataclass(frozen=True)
class Levels:
    """A column as its distinct values and each row's index into them.

    Ages and recencies in whole days take a few hundred values over many rows: a function of
    the column is then evaluated once per value and gathered (the same numbers, fewer logs).
    """

    values: np.ndarray
    index: np.ndarray | None

    @classmethod
    def of(cls, column: np.ndarray) -> Levels:
        values, index = np.unique(column, return_inverse=True)
        if values.size * 4 > column.size:  # hardly any repeats: evaluate per row
            return cls(column, None)
        return cls(values, index.ravel())

    def apply(self, per_value: np.ndarray) -> np.ndarray:
        """Per-row values from per-value ones (``per_value`` computed on ``values``)."""
        return per_value if self.index is None else per_value[self.index]


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
    pair_x: np.ndarray | None = None
    pair_y: np.ndarray | None = None
    pair_tx: np.ndarray | None = None
    pair_T: np.ndarray | None = None

    @cached_property
    def zero(self) -> RowPart:
        """The rows with frequency 0."""
        return self._part(self.x == 0)

    @cached_property
    def repeat(self) -> RowPart:
        """The rows with frequency above 0."""
        return self._part(self.x > 0)

    @cached_property
    def every(self) -> RowPart:
        """All rows."""
        return RowPart(self.x, self.tx, self.T, self.w, self.ix)

    def _part(self, mask: np.ndarray) -> RowPart:
        return RowPart(self.x[mask], self.tx[mask], self.T[mask], self.w[mask], self.ix[mask])

    def sample(self, size: int, *, pairs: bool = False) -> Rows:
        """Evenly spaced rows (stratified by frequency when sorted), weights rescaled."""
        idx = np.linspace(0, self.x.size - 1, size).round().astype(np.int64)
        w = self.w[idx] * (self.w.sum() / self.w[idx].sum())
        return _rows(self.x[idx], self.tx[idx], self.T[idx], w, self.n_customers, pairs)


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


def compress(x, tx, tt, weights=None) -> CompressedSummary:
    """Group identical (x, t_x, T) rows, summing weights; rows sorted by (x, t_x, T).

    Same result as ``summary.compress_rows``, faster: each column is ranked on its own and the
    three ranks packed into one integer key, so there is one sort of integers instead of a
    three-key lexsort (the fallback when the ranks do not fit in 63 bits).
    """
    w = np.ones(np.size(x)) if weights is None else np.asarray(weights, dtype=float)
    # One column at a time, ranks as int32: on millions of rows the temporaries stay small.
    ranked = [_rank(v) for v in (x, tx, tt)]
    sizes = [u.size for u, _ in ranked]
    if float(sizes[0]) * sizes[1] * sizes[2] < 2.0**62:
        key = ranked[0][1].astype(np.int64)
        for (_, inv), size in zip(ranked[1:], sizes[1:], strict=True):
            key *= size
            key += inv
        ranked = [(u, None) for u, _ in ranked]
        keys, inverse = np.unique(key, return_inverse=True)
        del key
        counts = np.bincount(inverse, weights=w, minlength=keys.size)
        rest, r2 = np.divmod(keys, sizes[2])
        r0, r1 = np.divmod(rest, sizes[1])
        values = (u[r] for (u, _), r in zip(ranked, (r0, r1, r2), strict=True))
        return CompressedSummary(*values, counts, inverse.ravel())
    cols = [np.asarray(v, dtype=float) + 0.0 for v in (x, tx, tt)]
    order = np.lexsort((cols[2], cols[1], cols[0]))
    sorted_cols = [c[order] for c in cols]
    new = np.ones(order.size, dtype=bool)
    new[1:] = np.any([c[1:] != c[:-1] for c in sorted_cols], axis=0)
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    counts = np.bincount(inverse, weights=w, minlength=int(new.sum()))
    return CompressedSummary(*(c[new] for c in sorted_cols), counts, inverse)


def _rank(values) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (-0.0 as 0.0) and the index of each value among them."""
    uniq, inverse = np.unique(np.asarray(values, dtype=float) + 0.0, return_inverse=True)
    inverse = inverse.ravel()
    return uniq, inverse.astype(np.int32) if uniq.size < 2**31 else inverse


def prepare_rows(frequency, recency, T, weights=None, *, pairs: bool = False) -> Rows:
    """Validate and compress rows to distinct (x, t_x, T) with summed weights.

    ``pairs`` also indexes the distinct (x, t_x) and (x, T) pairs (used by Pareto/NBD).
    """
    x, tx, tt = check_rfm(frequency, recency, T)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != x.shape or not np.isfinite(weights).all() or (weights < 0).any():
            raise AnalyticsInputError("weights must be finite, >= 0 and match frequency")
    if _worth_compressing(x, tx, tt):
        comp = compress(x, tx, tt, weights)
        x, tx, tt, w = comp.frequency, comp.recency, comp.T, comp.weights
    else:
        w = np.ones(x.size) if weights is None else weights
    keep = w > 0
    n = round(w.sum())
    if n < 2:
        raise AnalyticsInputError("need at least two customers to fit a model")
    if not (x[keep] > 0).any():
        raise AnalyticsInputError("nobody has a repeat purchase; the model cannot be fitted")
    if not keep.all():
        x, tx, tt, w = x[keep], tx[keep], tt[keep], w[keep]
    return _rows(x, tx, tt, w, n, pairs)


def _worth_compressing(x, tx, tt) -> bool:
    """False when an evenly spaced sample of a large input has (almost) no repeated rows.

    Compressing costs a sort; on all-distinct rows (day-resolution ages) it saves nothing.
    """
    if x.size <= SAMPLE_ABOVE:
        return True
    idx = np.linspace(0, x.size - 1, PROBE_SIZE).round().astype(np.int64)
    return compress(x[idx], tx[idx], tt[idx]).weights.size < 0.99 * idx.size


def _frequency_groups(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct frequencies and each row's index into them (counting, for whole numbers)."""
    top = x.max()
    if top < 1e7 and (x == np.floor(x)).all():
        counts = np.bincount(x.astype(np.int64))
        ux = np.flatnonzero(counts)
        rank = np.zeros(counts.size, dtype=np.int64)
        rank[ux] = np.arange(ux.size)
        return ux.astype(float), rank[x.astype(np.int64)]
    return np.unique(x, return_inverse=True)


def _rows(x, tx, tt, w, n, pairs: bool) -> Rows:
    """Assemble ``Rows`` from distinct sorted rows: per-frequency groups and optional pairs."""
    ux, ix = _frequency_groups(x)
    wx = np.bincount(ix, weights=w, minlength=ux.size)
    if not pairs:
        return Rows(x, tx, tt, w, n, ux, ix, wx)
    comp = compress(np.r_[x, x], np.r_[tx, tt], np.zeros(2 * x.size))
    inv = comp.inverse
    return Rows(
        x, tx, tt, w, n, ux, ix, wx, comp.frequency, comp.recency, inv[: x.size], inv[x.size :]
    )


@dataclass(frozen=True)
class Fit:
    """Result of a maximum-likelihood fit on the original parameter scale."""

    params: np.ndarray
    log_likelihood: float
    std_errors: np.ndarray


def maximize(objective: Objective, start: np.ndarray, total_weight: float) -> Fit:
    """Minimise a negative log-likelihood over log-parameters; return estimates and std errors."""
    res = _minimize(objective, start, total_weight)
    if not np.isfinite(res.fun):
        raise AnalyticsInputError("the likelihood could not be evaluated at any start value")
    phi = res.x
    theta = np.exp(phi)
    return Fit(theta, -float(res.fun) * total_weight, _std_errors(objective, phi, theta))


def fit_rows(row_objective: RowObjective, rows: Rows, start: np.ndarray) -> Fit:
    """Maximise over all rows; above ``SAMPLE_ABOVE`` rows, from a fit on a sample of them.

    Large fits: L-BFGS on ``SAMPLE_SIZE`` evenly spaced rows, two Newton steps on all rows with
    that sample's Hessian, then Newton steps with the all-rows Hessian (forward differences of
    the analytic gradient) until the gradient is below ``GTOL``: about ten evaluations on all
    rows instead of thirty. Falls back to L-BFGS on all rows if that does not converge.
    """
    if rows.x.size <= SAMPLE_ABOVE:
        return maximize(lambda phi: row_objective(phi, rows), start, rows.w.sum())
    sample = rows.sample(SAMPLE_SIZE, pairs=rows.pair_x is not None)
    res = _minimize(lambda phi: row_objective(phi, sample), start, sample.w.sum())
    objective = lambda phi: row_objective(phi, rows)  # noqa: E731
    total = rows.w.sum()
    if np.isfinite(res.fun):
        with np.errstate(under="ignore"):
            hess_s = hessian(lambda phi: row_objective(phi, sample), res.x) / sample.w.sum()
        phi, f, g = _newton(objective, total, res.x, hess_s, 2)
        if np.isfinite(f):
            with np.errstate(under="ignore"):
                hess = _forward_hessian(objective, phi, g * total) / total
            at = phi
            phi, f, g = _newton(objective, total, phi, hess, 8, g=g, f=f)
            if np.isfinite(f) and np.abs(g).max() <= GTOL:
                if np.abs(phi - at).max() > HESSIAN_MOVE:  # standard errors at the maximum
                    with np.errstate(under="ignore"):
                        hess = _forward_hessian(objective, phi, g * total) / total
                theta = np.exp(phi)
                return Fit(theta, -f * total, _se_from_hessian(hess * total, theta))
        start = res.x
    return maximize(objective, start, total)


def _newton(objective, total, phi, hess, steps, g=None, f=None):
    """Up to ``steps`` Newton steps (halved while the objective rises); stop below ``GTOL``."""
    scaled = _scaled(objective, total)
    if g is None:
        f, g = scaled(phi)
    for _ in range(steps):
        if not np.isfinite(f) or np.abs(g).max() <= GTOL:
            break
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        for shrink in (1.0, 0.5, 0.25, 0.125):
            trial = np.clip(phi - shrink * step, -12.0, 12.0)
            f_new, g_new = scaled(trial)
            if f_new <= f:
                phi, f, g = trial, f_new, g_new
                break
        else:
            break
    return phi, f, g


def _forward_hessian(objective: Objective, phi: np.ndarray, grad: np.ndarray, step=1e-6):
    """Forward finite-difference Hessian from the analytic gradient (``grad`` at ``phi``)."""
    hess = np.array([(objective(phi + step * e)[1] - grad) / step for e in np.eye(phi.size)])
    return 0.5 * (hess + hess.T)


def _scaled(objective: Objective, total_weight: float) -> Objective:
    """The objective per unit weight; overflow or invalid values count as +inf."""

    def scaled(phi):
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            try:
                f, g = objective(phi)
            except FloatingPointError:
                return np.inf, np.zeros_like(phi)
        return f / total_weight, g / total_weight

    return scaled


def _minimize(objective: Objective, start: np.ndarray, total_weight: float):
    """L-BFGS-B on the per-unit-weight objective within the log-parameter bounds."""
    bounds = [(-12.0, 12.0)] * start.size
    opts = {"ftol": 1e-15, "gtol": GTOL, "maxiter": 2000, "maxls": 50}
    scaled = _scaled(objective, total_weight)
    return minimize(scaled, start, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)


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
    return _se_from_hessian(hess, theta)


def _se_from_hessian(hess: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Delta-method standard errors from the Hessian in log-parameters."""
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return np.full(theta.size, np.inf)
    cov = np.linalg.inv(hess)
    return theta * np.sqrt(np.clip(np.diag(cov), 0.0, None))
