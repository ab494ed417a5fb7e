"""Property tests of the CLV models: analytic gradients, bounds, extremes, determinism."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics import AnalyticsInputError
from patron.analytics.clv import (
    clv,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_mbgnbd,
    fit_paretonbd,
)
from patron.analytics.clv._fit import prepare_rows
from patron.analytics.clv._special import hyp_1b_c
from patron.analytics.clv.bgnbd import bg_objective
from patron.analytics.clv.gammagamma import gg_objective
from patron.analytics.clv.paretonbd import pnbd_objective

FAST = settings(max_examples=25, deadline=None)
log_params = st.lists(st.floats(-2.0, 2.5), min_size=4, max_size=4).map(np.array)
seeds = st.integers(0, 2**16)


def simulate(seed: int, n: int = 300):
    """Simulate a BG/NBD customer base (Poisson purchases, geometric dropout), T in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 1 / 3.0, n)
    p = rng.beta(0.8, 2.5, n)
    T = rng.integers(1, 40 * 7, n) / 7.0
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            tx[i] = t
            if rng.random() < p[i]:
                break
    return x, np.round(tx * 7) / 7, T


def numeric_gradient(objective, phi, step=1e-6):
    return np.array(
        [
            (objective(phi + step * e)[0] - objective(phi - step * e)[0]) / (2 * step)
            for e in np.eye(phi.size)
        ]
    )


@pytest.mark.parametrize(
    "objective",
    [
        lambda phi, rows: bg_objective(phi, rows),
        lambda phi, rows: bg_objective(phi, rows, True),
        pnbd_objective,
    ],
    ids=["bgnbd", "mbgnbd", "paretonbd"],
)
@FAST
@given(phi=log_params, seed=seeds)
def test_count_model_gradients_match_finite_differences(objective, phi, seed):
    rows = prepare_rows(*simulate(seed, 60), pairs=True)
    with np.errstate(under="ignore"):
        value, grad = objective(phi, rows)
        numeric = numeric_gradient(lambda p: objective(p, rows), phi)
    assert np.isfinite(value)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-4 * max(1.0, abs(value)) * 1e-2)


@FAST
@given(phi=st.lists(st.floats(-1.0, 3.0), min_size=3, max_size=3).map(np.array), seed=seeds)
def test_gamma_gamma_gradient_matches_finite_differences(phi, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 20, 80).astype(float)
    m = rng.gamma(4.0, 10.0, 80)
    w = np.ones(80)
    _, grad = gg_objective(phi, x, m, w)
    numeric = numeric_gradient(lambda p: gg_objective(p, x, m, w), phi)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-5)


@FAST
@given(b=st.floats(0.01, 1e4), gap=st.floats(0.01, 1e3), z=st.floats(0.0, 0.999))
def test_hypergeometric_series_is_finite_and_bounded(b, gap, z):
    log_g, d_b, d_c, d_z = hyp_1b_c(np.array([b]), np.array([b + gap]), np.array([z]), grad=True)
    assert 0.0 <= log_g[0] <= -np.log1p(-z) + 1e-12
    assert d_b[0] >= 0 and d_c[0] <= 0 and d_z[0] >= 0


@pytest.fixture(scope="module")
def fitted():
    x, tx, T = simulate(7, 2000)
    return (x, tx, T), [fit(x, tx, T) for fit in (fit_bgnbd, fit_mbgnbd, fit_paretonbd)]


@FAST
@given(
    x=st.integers(0, 10_000),
    frac=st.floats(0.0, 1.0),
    T=st.floats(1e-3, 1e5),
    t=st.floats(0.0, 1e4),
)
def test_predictions_are_finite_and_probabilities_bounded(fitted, x, frac, T, t):
    _, models = fitted
    tx = 0.0 if x == 0 else frac * T
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        for model in models:
            alive = model.probability_alive([x], [tx], [T])
            expected = model.expected_purchases(t, [x], [tx], [T])
            assert 0.0 <= alive[0] <= 1.0
            assert np.isfinite(expected[0]) and expected[0] >= 0.0


def test_extreme_customers_raise_no_warning(fitted):
    """Frequency 1e4 and T 1e5: fits and predictions finite with warnings as errors."""
    (x, tx, T), _ = fitted
    x = np.r_[x, 1e4, 1e4, 0.0, 3.0]
    tx = np.r_[tx, 9e4, 1e5, 0.0, 1.0]
    T = np.r_[T, 1e5, 1e5, 1e5, 1e5]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for fit in (fit_bgnbd, fit_mbgnbd, fit_paretonbd):
            model = fit(x, tx, T)
            assert np.isfinite(model.log_likelihood)
            assert all(np.isfinite(v) for v in model.params.values())
            value = clv(model, x, tx, T, np.full(x.size, 20.0), months=12)
            assert np.isfinite(value).all() and (value >= 0).all()
            assert np.isfinite(model.probability_alive(x, tx, T)).all()


def test_fit_is_deterministic_and_compression_exact(fitted):
    (x, tx, T), models = fitted
    again = fit_paretonbd(x, tx, T)
    assert again == models[2]
    comp = prepare_rows(x, tx, T)
    weighted = fit_bgnbd(comp.x, comp.tx, comp.T, weights=comp.w)
    assert weighted.params == models[0].params
    assert weighted.n_customers == x.size


def test_fit_recovers_simulation_parameters():
    x, tx, T = simulate(11, 4000)
    model = fit_bgnbd(x, tx, T)
    for name, truth in {"r": 0.5, "alpha": 3.0, "a": 0.8, "b": 2.5}.items():
        assert abs(model.params[name] - truth) < 3.5 * model.std_errors[name]


def test_gamma_gamma_shrinks_towards_population_mean():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 10, 500).astype(float)
    m = rng.gamma(6.0, 5.0, 500)
    model = fit_gamma_gamma(x, m)
    p, q, g = model.params.values()
    population = p * g / (q - 1)
    spend = model.expected_spend(x, m)
    assert np.all((spend - population) * (m - population) >= -1e-9)
    assert model.expected_spend([0.0], [0.0])[0] == pytest.approx(population)


@pytest.mark.parametrize(
    "args",
    [
        ([], [], []),
        ([1.0, np.nan], [0.5, 0.0], [2.0, 2.0]),
        ([1.0, 2.0], [3.0, 1.0], [2.0, 2.0]),
        ([0.0, 0.0], [0.0, 0.0], [2.0, 3.0]),
        ([1.0], [0.5], [2.0]),
        ([-1.0, 1.0], [0.0, 0.5], [1.0, 1.0]),
    ],
    ids=["empty", "nan", "recency>T", "no-repeat", "one-customer", "negative"],
)
def test_bad_inputs_raise_clear_errors(args):
    for fit in (fit_bgnbd, fit_paretonbd):
        with pytest.raises(AnalyticsInputError):
            fit(*args)
