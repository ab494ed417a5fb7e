"""Common shape of the fitted purchase-count models (BG/NBD, MBG/NBD, Pareto/NBD)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from patron.analytics.clv._fit import Fit, check_rfm, compress

# Above this many customers, predictions are computed once per distinct (x, t_x, T) row.
DISTINCT_ABOVE = 5_000
# Distinct rows evaluated at a time: the model's per-row temporaries stay at tens of MB.
CHUNK = 500_000


@dataclass(frozen=True)
class TransactionModel:
    """A fitted purchase-count model: parameters, log-likelihood, standard errors, sample size."""

    params: dict[str, float]
    log_likelihood: float
    std_errors: dict[str, float]
    n_customers: int

    names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_fit(cls, fit: Fit, n_customers: int):
        """Build the frozen model from an optimiser result."""
        return cls(
            params=dict(zip(cls.names, map(float, fit.params), strict=True)),
            log_likelihood=float(fit.log_likelihood),
            std_errors=dict(zip(cls.names, map(float, fit.std_errors), strict=True)),
            n_customers=int(n_customers),
        )

    def _theta(self) -> np.ndarray:
        return np.array([self.params[k] for k in self.names])

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Expected number of purchases in the next ``t`` time units, per customer."""
        horizon = float(t)
        if not horizon >= 0:
            raise ValueError("horizon t must be >= 0")
        return _per_distinct(
            lambda x, tx, tt: self._expected(horizon, x, tx, tt), frequency, recency, T
        )

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """Probability that each customer is still active at T (churn risk = 1 - this)."""
        return _per_distinct(self._p_alive, frequency, recency, T)

    def _expected_many(self, horizons, x, tx, T) -> Iterator[np.ndarray]:
        """``_expected`` at each horizon in turn (an iterator: one curve in memory at a time)."""
        return (self._expected(t, x, tx, T) for t in horizons)

    def _expected(self, t, x, tx, T):  # pragma: no cover - abstract
        raise NotImplementedError

    def _p_alive(self, x, tx, T):  # pragma: no cover - abstract
        raise NotImplementedError


def _per_distinct(fn, frequency, recency, T, *, stacked: bool = False) -> np.ndarray:
    """Evaluate ``fn`` per customer, once per distinct row when the input is large.

    ``stacked``: ``fn`` returns rows of per-customer values (a 2-d array).
    """
    x, tx, tt = check_rfm(frequency, recency, T)
    with np.errstate(under="ignore"):
        if x.size <= DISTINCT_ABOVE:
            return fn(x, tx, tt)
        comp = compress(x, tx, tt)
        del x, tx, tt
        values = _chunked(fn, comp.frequency, comp.recency, comp.T, stacked)
        return values[:, comp.inverse] if stacked else values[comp.inverse]


def _chunked(fn, x, tx, tt, stacked: bool) -> np.ndarray:
    """``fn`` over CHUNK rows at a time (elementwise: same values, smaller temporaries)."""
    if x.size <= CHUNK:
        return fn(x, tx, tt)
    parts = [
        fn(x[i : i + CHUNK], tx[i : i + CHUNK], tt[i : i + CHUNK]) for i in range(0, x.size, CHUNK)
    ]
    return np.concatenate(parts, axis=1 if stacked else 0)
