"""The render limits: CPU time and output size stop a costly template with a clear error."""

from __future__ import annotations

import time

import pytest

from patron.messages import rendering

SILENT_LOOPS = (
    "{% for a in range(100000) %}{% for b in range(100000) %}"
    "{% if a < 0 %}x{% endif %}{% endfor %}{% endfor %}"
)
LOUD_LOOPS = (
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}"
)


def test_a_template_that_costs_more_than_the_cpu_budget_is_stopped_and_named():
    source = rendering.Source(subject="Hi", body="<p>ok</p>", text=SILENT_LOOPS)
    with pytest.raises(rendering.RenderError) as raised:
        rendering.render(source, {}, seconds=0.2)
    assert "took longer than" in raised.value.message


def test_a_template_whose_output_is_too_large_is_stopped_and_named():
    source = rendering.Source(subject="Hi", body="<p>ok</p>", text=LOUD_LOOPS)
    with pytest.raises(rendering.RenderError) as raised:
        rendering.render(source, {})
    assert "larger than" in raised.value.message


def test_the_budget_counts_cpu_time_not_time_spent_waiting():
    budget = rendering._Budget(0.05)
    time.sleep(0.2)  # waiting (a loaded machine, another thread) costs this thread no CPU
    budget.check()
    with pytest.raises(rendering.RenderError):
        while True:
            budget.check()
