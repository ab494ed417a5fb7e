"""Pareto/NBD at extreme inputs against a 60-digit reference; the large-fit path of the models."""

import itertools

import mpmath as mp
import numpy as np
import pytest

from patron.analytics.clv import _fit, fit_bgnbd, fit_mbgnbd, fit_paretonbd
from patron.analytics.clv._fit import compress, prepare_rows
from patron.analytics.clv.paretonbd import SERIES_TERMS, customer_log_likelihood, pnbd_objective
from patron.analytics.summary import compress_rows

from .test_clv_properties import numeric_gradient, simulate

EXTREMES = (0.01, 1.0, 100.0)
# (frequency, recency, T): recency 0, recency = T, recency just below T, long histories.
CUSTOMERS = [
    (0, 0, 1),
    (0, 0, 1e4),
    (1, 0, 1),
    (1, 1, 1),
    (3, 9.9, 10),
    (50, 200, 1e3),
    (1000, 0, 1e4),
    (1000, 1e4, 1e4),
    (10, 0.5, 1e4),
]


def reference_ll(r, al, s, be, x, tx, T) -> mp.mpf:
    """Fader & Hardie (2005) Pareto/NBD log-likelihood with mpmath at 60 digits."""
    with mp.workdps(60):
        r, al, s, be, x, tx, T = map(mp.mpf, (r, al, s, be, x, tx, T))
        a = r + s + x
        m, b = (al, s + 1) if al >= be else (be, r + x)

        def f(y):
            return mp.hyp2f1(a, b, a + 1, abs(al - be) / (m + y)) / (m + y) ** a

        lik = (al + T) ** -(r + x) * (be + T) ** -s + s / a * (f(tx) - f(T))
        return mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be) + mp.log(lik)


@pytest.mark.parametrize("params", list(itertools.product(EXTREMES, repeat=4)), ids=str)
def test_pareto_nbd_matches_60_digit_reference_with_bounded_work(params):
    """|error| <= 1e-12 max(|LL|, 1): relative 1e-12, absolute 1e-12 where |LL| < 1.

    Near LL = 0 (e.g. -1e-8 with s ln beta = -460) the log-likelihood is a sum of terms of
    that size, so only an absolute error of a few ulps of them is attainable in doubles.
    """
    x, tx, T = (np.array(c, dtype=float) for c in zip(*CUSTOMERS, strict=True))
    work: list[int] = []
    ours = customer_log_likelihood(params, x, tx, T, work=work)
    assert max(work) <= SERIES_TERMS
    for value, customer in zip(ours, CUSTOMERS, strict=True):
        ref = reference_ll(*params, *customer)
        error = abs(mp.mpf(float(value)) - ref)
        assert error <= 1e-12 * max(abs(ref), 1), (customer, float(ref), float(value))


def test_issue_point_takes_a_bounded_number_of_terms():
    """r=0.01, alpha=100, s=5, beta=0.01, recency 0: was 200,000 series terms and 5e-12 off.

    LL is -2.5e-7 there, a sum of terms of size 23: a few ulps of 23 is the attainable error.
    """
    work: list[int] = []
    value = customer_log_likelihood((0.01, 100.0, 5.0, 0.01), [0.0], [0.0], [1.0], work=work)
    assert max(work) <= SERIES_TERMS
    ref = reference_ll(0.01, 100.0, 5.0, 0.01, 0, 0, 1)
    assert abs(mp.mpf(float(value[0])) - ref) <= 1e-13


@pytest.mark.parametrize(
    "theta", [(0.01, 100.0, 5.0, 0.01), (100.0, 0.01, 0.01, 100.0), (0.3, 0.01, 2.0, 50.0)]
)
def test_pareto_nbd_gradient_exact_at_extremes(theta):
    x, tx, T = simulate(5, 80)
    x, tx, T = np.r_[x, 0.0, 5.0], np.r_[tx, 0.0, 0.0], np.r_[T, 1e3, 1e3]
    rows = prepare_rows(x, tx, T, pairs=True)
    phi = np.log(theta)
    with np.errstate(under="ignore"):
        value, grad = pnbd_objective(phi, rows)
        numeric = numeric_gradient(lambda p: pnbd_objective(p, rows), phi)
    assert np.isfinite(value)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-6 * max(1.0, abs(value)))


def test_compress_matches_compress_rows():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 5, 5000).astype(float)
    tx = np.where(x > 0, rng.integers(0, 20, 5000), 0).astype(float)
    T = rng.integers(20, 30, 5000).astype(float)
    w = rng.random(5000)
    ours, theirs = compress(x, tx, T, w), compress_rows(x, tx, T, w)
    for name in ("frequency", "recency", "T", "weights", "inverse"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name


@pytest.mark.parametrize("fit", [fit_bgnbd, fit_mbgnbd, fit_paretonbd])
def test_large_fit_path_finds_the_same_maximum(fit, monkeypatch):
    """Sample fit + Newton steps (used above SAMPLE_ABOVE rows) agrees with plain L-BFGS."""
    x, tx, T = simulate(9, 3000)
    T = T + np.arange(T.size) * 1e-9  # all rows distinct
    plain = fit(x, tx, T)
    monkeypatch.setattr(_fit, "SAMPLE_ABOVE", 1000)
    monkeypatch.setattr(_fit, "SAMPLE_SIZE", 500)
    monkeypatch.setattr(_fit, "PROBE_SIZE", 400)
    assert not _fit._worth_compressing(x, tx, T)
    large = fit(x, tx, T)
    for name, value in plain.params.items():
        assert large.params[name] == pytest.approx(value, rel=1e-6)
        assert large.std_errors[name] == pytest.approx(plain.std_errors[name], rel=1e-3)
    assert large.log_likelihood == pytest.approx(plain.log_likelihood, abs=1e-6)
    assert large.n_customers == plain.n_customers
