"""Predictive customer-base models: BG/NBD, modified BG/NBD, Pareto/NBD, Gamma-Gamma and CLV.

Fit on per-customer (frequency, recency, T) arrays, e.g. from ``patron.analytics.summarize``::

    model = fit_bgnbd(s.frequency, s.recency, s.T)
    spend = fit_gamma_gamma(s.frequency, s.monetary)
    value = clv(model, s.frequency, s.recency, s.T,
                spend.expected_spend(s.frequency, s.monetary), months=12)

References: Fader, Hardie & Lee (2005a) BG/NBD; Schmittlein, Morrison & Colombo (1987) and Fader &
Hardie (2005) Pareto/NBD; Batislam, Denizel & Filiztekin (2007) MBG/NBD; Fader, Hardie & Lee
(2005b) Gamma-Gamma.
"""

from patron.analytics.clv.bgnbd import BgNbdModel, fit_bgnbd
from patron.analytics.clv.gammagamma import GammaGammaModel, fit_gamma_gamma
from patron.analytics.clv.mbgnbd import MbgNbdModel, fit_mbgnbd
from patron.analytics.clv.paretonbd import ParetoNbdModel, fit_paretonbd
from patron.analytics.clv.predict import (
    PERIODS_PER_MONTH,
    HoldoutComparison,
    clv,
    discounted_purchases,
    holdout_comparison,
    purchase_predictions,
)

__all__ = [
    "PERIODS_PER_MONTH",
    "BgNbdModel",
    "GammaGammaModel",
    "HoldoutComparison",
    "MbgNbdModel",
    "ParetoNbdModel",
    "clv",
    "discounted_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_mbgnbd",
    "fit_paretonbd",
    "holdout_comparison",
    "purchase_predictions",
]
