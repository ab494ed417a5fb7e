"""Definitions are refused at save time with the step named."""

from __future__ import annotations

import pytest

from patron.journeys.definition import DefinitionError, parse

TRIGGER = {"type": "api"}


def _steps(*steps, **extra):
    return {"trigger": TRIGGER, "start": steps[0]["id"], "steps": list(steps), **extra}


def _refused(raw) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse(raw)
    return caught.value


def test_a_full_definition_parses():
    d = parse(
        _steps(
            {"id": "s1", "type": "send", "template_id": 7, "next": "s2"},
            {"id": "s2", "type": "wait", "seconds": 60, "next": "s3"},
            {"id": "s3", "type": "wait_until", "at": "09:00", "weekdays": [0, 4], "next": "s4"},
            {
                "id": "s4",
                "type": "wait_for",
                "event": {"name": "Clicked", "where": [{"property": "u", "op": "eq", "value": 1}]},
                "timeout_seconds": 60,
                "happened": "s5",
                "timed_out": "s6",
            },
            {
                "id": "s5",
                "type": "branch",
                "rules": {"type": "and", "children": []},
                "yes": "s6",
                "no": "s7",
            },
            {
                "id": "s6",
                "type": "split",
                "branches": [{"percent": 30, "next": "s7"}, {"percent": 70, "next": "s8"}],
            },
            {"id": "s7", "type": "update_profile", "add_tags": ["vip"], "next": "s8"},
            {"id": "s8", "type": "exit"},
            reentry={"policy": "after_days", "days": 30},
            goal={"type": "order", "within_days": 14},
        )
    )
    assert d.start == "s1" and d.template_ids() == {"s1": 7}
    assert d.steps["s4"].targets() == {"happened": "s5", "timed_out": "s6"}
    assert d.reentry == "after_days" and d.reentry_days == 30
    assert set(d.rule_trees()) == {"s5"}


def test_unknown_target_names_the_step():
    error = _refused(_steps({"id": "a", "type": "wait", "seconds": 5, "next": "nowhere"}))
    assert error.step == "a" and "unknown step 'nowhere'" in error.message


def test_unreachable_step_is_named():
    error = _refused(
        _steps({"id": "a", "type": "exit"}, {"id": "lost", "type": "wait", "seconds": 5})
    )
    assert error.step == "lost" and "unreachable" in error.message


def test_wait_for_without_timeout_is_refused():
    step = {
        "id": "w",
        "type": "wait_for",
        "event": {"name": "x"},
        "happened": "e",
        "timed_out": "e",
    }
    error = _refused(_steps(step, {"id": "e", "type": "exit"}))
    assert error.step == "w" and "timeout" in error.message


def test_loop_without_wait_is_refused_and_with_a_wait_allowed():
    loop = _steps(
        {"id": "a", "type": "send", "template_id": 1, "next": "b"},
        {
            "id": "b",
            "type": "branch",
            "rules": {"type": "and", "children": []},
            "yes": "a",
            "no": "c",
        },
        {"id": "c", "type": "exit"},
    )
    assert "loop" in _refused(loop).message
    loop["steps"][0]["next"] = "w"
    loop["steps"].append({"id": "w", "type": "wait", "seconds": 86400, "next": "b"})
    assert parse(loop).steps["w"].next == "b"


def test_split_percentages_must_sum_to_100():
    split = {
        "id": "s",
        "type": "split",
        "branches": [{"percent": 50, "next": "e"}, {"percent": 40, "next": "e"}],
    }
    error = _refused(_steps(split, {"id": "e", "type": "exit"}))
    assert error.step == "s" and "100" in error.message


@pytest.mark.parametrize(
    "raw, where",
    [
        ({"trigger": {"type": "nope"}, "steps": [{"id": "a", "type": "exit"}]}, "trigger"),
        (_steps({"id": "a", "type": "teleport"}), "a"),
        (_steps({"id": "a", "type": "send"}), "a"),
        (_steps({"id": "a", "type": "wait_until", "at": "25:99"}), "a"),
        (_steps({"id": "a", "type": "exit"}, reentry={"policy": "after_days"}), "reentry"),
        ({"trigger": TRIGGER, "steps": []}, "steps"),
        ([], "definition"),
    ],
)
def test_bad_fields_are_refused_with_where(raw, where):
    error = _refused(raw)
    assert error.step == where
    assert error.to_dict()["details"][0]["step"] == where
