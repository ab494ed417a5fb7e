"""Pure statistics: simulated experiments with a known effect, A/A, SRM, Holm, CUPED, verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.experiments import analysis, inference

SIMS, N = 1000, 1000
BASE_P, LIFT_P = 0.10, 0.12
MU, SIGMA = np.log(4000), 0.8  # order values around 40.00, right-skewed
MEAN_VALUE = float(np.exp(MU + SIGMA**2 / 2))


def _revenue(rng, p: float, shape) -> np.ndarray:
    """Cents per recipient: a lognormal order value with probability p, else nothing."""
    return (rng.random(shape) < p) * rng.lognormal(MU, SIGMA, shape)


def _welch_rows(a: np.ndarray, b: np.ndarray) -> dict:
    """Welch's test of each simulated experiment (one row each), vectorised."""
    return inference.welch(
        a.mean(1), a.var(1, ddof=1), a.shape[1], b.mean(1), b.var(1, ddof=1), b.shape[1]
    )


def test_95_percent_intervals_cover_the_true_effect_93_to_97_percent():
    rng = np.random.default_rng(1401)
    a = _revenue(rng, BASE_P, (SIMS, N))
    b = _revenue(rng, LIFT_P, (SIMS, N))
    w = _welch_rows(a, b)
    truth = (LIFT_P - BASE_P) * MEAN_VALUE
    covered = np.mean((w["low"] <= truth) & (truth <= w["high"]))
    assert 0.93 <= covered <= 0.97, covered
    rel_truth = LIFT_P / BASE_P - 1
    rel_covered = np.mean((w["rel_low"] <= rel_truth) & (rel_truth <= w["rel_high"]))
    assert 0.93 <= rel_covered <= 0.97, rel_covered
    ca, cb = (rng.random((SIMS, 4 * N)) < p for p in (BASE_P, LIFT_P))
    r = inference.proportions(ca.sum(1), 4 * N, cb.sum(1), 4 * N)
    rate_covered = np.mean((r["low"] <= LIFT_P - BASE_P) & (r["high"] >= LIFT_P - BASE_P))
    assert 0.93 <= rate_covered <= 0.97, rate_covered


def test_a_a_tests_flag_4_to_6_percent_as_significant():
    rng = np.random.default_rng(1402)
    a, b = _revenue(rng, BASE_P, (SIMS, N)), _revenue(rng, BASE_P, (SIMS, N))
    flagged = np.mean(_welch_rows(a, b)["p"] < 0.05)
    assert 0.04 <= flagged <= 0.06, flagged
    x1, x2 = rng.binomial(4 * N, BASE_P, SIMS), rng.binomial(4 * N, BASE_P, SIMS)
    rate_flagged = np.mean(inference.proportions(x1, 4 * N, x2, 4 * N)["p"] < 0.05)
    assert 0.04 <= rate_flagged <= 0.06, rate_flagged


def test_srm_flags_a_mismatched_split_and_not_a_fair_one():
    assert inference.srm([5300, 4700], [0.5, 0.5])["mismatch"]
    assert not inference.srm([5030, 4970], [0.5, 0.5])["mismatch"]
    assert inference.srm([900, 4500, 4600], [0.1, 0.45, 0.45])["mismatch"] is False
    assert inference.srm([600, 4700, 4700], [0.1, 0.45, 0.45])["mismatch"]


def test_holm_steps_down():
    adjusted = inference.holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06])
    assert inference.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_cuped_cuts_variance_and_keeps_the_mean_difference():
    rng = np.random.default_rng(3)
    pre = rng.gamma(2.0, 1000.0, 40_000)
    y = 0.8 * pre + rng.normal(0, 500, 40_000)
    adjusted, theta = inference.cuped(y, pre)
    assert theta == pytest.approx(0.8, abs=0.02)
    assert adjusted.var() < 0.2 * y.var()
    assert adjusted.mean() == pytest.approx(y.mean())


def test_cap_and_bootstrap_agree_with_welch_on_one_sample():
    rng = np.random.default_rng(5)
    a, b = _revenue(rng, BASE_P, 20_000), _revenue(rng, LIFT_P, 20_000)
    capped, top = inference.cap(np.concatenate([a, b, [10**9]]), 99.0)
    assert capped.max() == top < 10**9
    w = inference.welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    low, high = inference.bootstrap_diff(a, b, seed=1)
    assert low == pytest.approx(w["low"], rel=0.15) and high == pytest.approx(w["high"], rel=0.1)


def test_required_sample_grows_with_smaller_effects():
    big = inference.required_per_arm(100.0, 10.0)
    assert big == pytest.approx(2 * (1.96 + 0.8416) ** 2 * 100, abs=2)
    assert inference.required_per_arm(100.0, 5.0) == pytest.approx(4 * big, rel=0.01)


def _recipients(rng, n: int, lifts: list[float]) -> analysis.Recipients:
    """Arms with conversion BASE_P times each lift, plus a 10% holdout converting at BASE_P/2."""
    k = len(lifts)
    codes = np.concatenate([np.full(n, i) for i in range(k)] + [np.full(n // 5, -1)])
    p = np.concatenate([np.full(n, BASE_P * f) for f in lifts] + [np.full(n // 5, BASE_P / 2)])
    bought = rng.random(len(codes)) < p
    revenue = np.round(bought * rng.lognormal(MU, SIGMA, len(codes)))
    zero = np.zeros(len(codes))
    return analysis.Recipients(
        codes,
        revenue,
        rng.gamma(1.0, 500.0, len(codes)),
        bought.astype(int),
        bought.astype(int),
        zero,
        zero,
    )


def test_verdict_names_the_winner_with_its_interval():
    rng = np.random.default_rng(7)
    report = analysis.analyse(
        _recipients(rng, 20_000, [1.0, 1.3]), keys=["A", "B"], shares=[5, 5, 1]
    )
    text = report["verdict"]["text"]
    assert report["verdict"]["winner"] == "B" and text.startswith("B wins: +"), text
    assert "revenue per recipient, 95% CI +" in text
    assert not report["srm"]["mismatch"]
    inc = report["incrementality"]
    assert inc["holdout"] == 4000 and inc["low"] > 0


def test_verdict_without_a_difference_says_how_many_more_are_needed():
    rng = np.random.default_rng(8)
    report = analysis.analyse(
        _recipients(rng, 2000, [1.0, 1.0, 1.0]),
        keys=["A", "B", "C"],
        shares=[5, 5, 5, 1],
    )
    verdict = report["verdict"]
    assert verdict["winner"] == "A" and not verdict["significant"]
    assert (
        verdict["text"].startswith("no difference yet: about ")
        and "more recipients" in (verdict["text"])
    )
    assert report["needed"] > 0
    early = analysis.analyse(
        _recipients(rng, 2000, [1.0, 2.0]), keys=["A", "B"], shares=[5, 5, 1], final=False
    )
    assert early["verdict"]["winner"] is None and "too early" in early["verdict"]["text"]


def test_one_arm_against_its_holdout_reports_what_the_send_adds():
    rng = np.random.default_rng(9)
    r = _recipients(rng, 20_000, [2.0])
    report = analysis.analyse(r, keys=["News"], shares=[5, 1])
    inc = report["incrementality"]
    assert inc["low"] > 0 and report["comparisons"] == []
    assert report["verdict"]["text"].startswith("News adds +")
    assert "per recipient against its holdout, 95% CI +" in report["verdict"]["text"]


def test_judged_on_clicks_the_verdict_names_the_click_rate():
    rng = np.random.default_rng(11)
    n = 20_000
    codes = np.repeat([0, 1], n)
    clicked = rng.random(2 * n) < np.repeat([0.05, 0.07], n)
    zero = np.zeros(2 * n)
    r = analysis.Recipients(codes, zero, zero, zero, clicked.astype(int), zero, zero)
    report = analysis.analyse(
        r, keys=["A", "B"], shares=[1, 1], opts=analysis.Options(metric="clicks", bootstrap=False)
    )
    assert (
        report["verdict"]["text"].startswith("B wins: +")
        and "click rate" in (report["verdict"]["text"])
    )
    assert report["comparisons"][0]["clicked"]["low"] > 0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 500), st.integers(500, 1000), st.integers(0, 500), st.integers(500, 1000))
def test_swapping_the_arms_negates_the_difference_and_keeps_p(x1, n1, x2, n2):
    ab = inference.proportions(x1, n1, x2, n2)
    ba = inference.proportions(x2, n2, x1, n1)
    assert ab["diff"] == pytest.approx(-ba["diff"]) and ab["p"] == pytest.approx(ba["p"])
    assert 0 <= ab["p"] <= 1 and ab["low"] <= ab["diff"] <= ab["high"]
