"""Modified BG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
comparison of models for customer base analysis", International Journal of Research in
Marketing 24(3), 201-209).

As BG/NBD (Fader, Hardie & Lee 2005) but a customer may also drop out right after the first
purchase, so customers without repeat purchases can be inactive. Per customer:

    LL = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x+1) - ln B(a, b)
         + ln[ (alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x) ]

P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)); the conditional expectation is the
BG/NBD one with ``b`` replaced by ``b+1`` times this P(alive). Gradient analytic (digamma).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.analytics.clv._fit import fit_rows, prepare_rows
from patron.analytics.clv._model import TransactionModel
from patron.analytics.clv.bgnbd import (
    NAMES,
    bg_expected,
    bg_expected_many,
    bg_objective,
    bg_p_alive,
)


@dataclass(frozen=True)
class MbgNbdModel(TransactionModel):
    """Fitted modified BG/NBD model (Batislam, Denizel & Filiztekin 2007)."""

    names = NAMES

    def _expected(self, t, x, tx, T):
        return bg_expected(self._theta(), t, x, tx, T, modified=True)

    def _expected_many(self, horizons, x, tx, T):
        return bg_expected_many(self._theta(), horizons, x, tx, T, modified=True)

    def _p_alive(self, x, tx, T):
        return bg_p_alive(self._theta(), x, tx, T, modified=True)


def fit_mbgnbd(frequency, recency, T, weights=None) -> MbgNbdModel:
    """Fit the modified BG/NBD model by maximum likelihood on distinct (x, t_x, T) rows."""
    rows = prepare_rows(frequency, recency, T, weights)
    fit = fit_rows(lambda phi, part: bg_objective(phi, part, True), rows, np.zeros(4))
    return MbgNbdModel.from_fit(fit, rows.n_customers)
