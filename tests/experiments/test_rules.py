"""Assignment: deterministic across processes, uniform, split by percentages; arm checks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from patron.experiments import rules

IDS = [*range(1, 2001), 2**40 + 7, 10**15]


def test_assignment_is_identical_in_another_process_and_pinned_across_versions():
    code = (
        "import json, sys; from patron.experiments import rules; "
        "ids = json.loads(sys.stdin.read()); "
        "print(json.dumps(rules.units('spring-sale', ids).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(IDS),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": "", "PYTHONPATH": sys.path[0]},
    )
    here = rules.units("spring-sale", IDS)
    assert json.loads(out.stdout) == here.tolist()
    # Pinned values: a change to the hash would move customers between arms.
    assert rules.unit("spring-sale", 1) == pytest.approx(here[0])
    assert [round(float(v), 6) for v in here[:3]] == PINNED


PINNED = [0.207776, 0.199438, 0.433247]


def test_units_are_uniform_and_salts_independent():
    ids = np.arange(1, 200_001)
    u = rules.units("a", ids)
    assert u.min() >= 0 and u.max() < 1
    counts = np.bincount((u * 20).astype(int), minlength=20)
    assert stats.chisquare(counts).pvalue > 0.001
    v = rules.units("b", ids)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


def test_assign_cuts_holdout_test_and_rollout_by_shares():
    u = rules.units("x", np.arange(100_000))
    codes = rules.assign(u, holdout=0.1, test=0.2, percents=[50, 30, 20])
    share = {c: np.mean(codes == c) for c in (-1, -2, 0, 1, 2)}
    assert share[-1] == pytest.approx(0.1, abs=0.005)
    assert share[0] == pytest.approx(0.9 * 0.2 * 0.5, abs=0.004)
    assert share[2] == pytest.approx(0.9 * 0.2 * 0.2, abs=0.004)
    assert share[-2] == pytest.approx(0.9 * 0.8, abs=0.006)
    everyone = rules.assign(u, holdout=0.0, test=1.0, percents=[50, 50])
    assert set(np.unique(everyone)) == {0, 1}


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 2**62), min_size=1, max_size=50), st.text(max_size=20))
def test_assignment_of_a_customer_does_not_depend_on_the_others(ids, salt):
    together = rules.units(salt, ids)
    alone = [rules.unit(salt, i) for i in ids]
    assert together.tolist() == alone


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ([], "1 to 6"),
        (
            [
                {"key": "A", "percent": 50, "template_id": 1},
                {"key": "A", "percent": 50, "template_id": 2},
            ],
            "keys must differ",
        ),
        (
            [
                {"key": "A", "percent": 40, "template_id": 1},
                {"key": "B", "percent": 50, "template_id": 2},
            ],
            "sum to 100",
        ),
        (
            [{"key": "A", "percent": 50}, {"key": "B", "percent": 50, "template_id": 2}],
            "template_id is required",
        ),
        (
            [
                {"key": "holdout", "percent": 50, "template_id": 1},
                {"key": "B", "percent": 50, "template_id": 2},
            ],
            "not 'holdout'",
        ),
    ],
)
def test_bad_arms_are_refused_with_the_reason(arms, message):
    with pytest.raises(rules.ArmError, match=message):
        rules.parse_arms(arms, kind="broadcast")
