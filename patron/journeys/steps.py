"""The step-type registry: built-in steps and those capabilities contribute.

A capability adds a step type with `contributes={"journeys.steps": (StepType(...),)}` in its
manifest. `fields(raw, step_id)` checks the step's JSON and returns its fields (raising
`definition.DefinitionError`); `perform(session=, customer_id=, fields=, key=, now=)` does the
step's database work in the step's own transaction and returns a detail dict (or None). `key`
is the step's idempotency key "{version}:{step}:{enrolment}:{iteration}"; an outside effect
must be queued as a durable row under it, never performed in `perform`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from patron import manifest
from patron.journeys import definition

POINT = "journeys.steps"


@dataclass(frozen=True)
class StepType:
    """A contributed step type: how its JSON is checked and what performing it does."""

    name: str
    fields: Callable[[dict, str], dict]
    perform: Callable[..., dict | None]


def contributed() -> dict[str, StepType]:
    """Step types other capabilities contribute, by name."""
    return {t.name: t for t in manifest.contributions(POINT)}


def parse(raw: dict) -> definition.Definition:
    """Parse a definition knowing the contributed step types."""
    return definition.parse(raw, extra_types={n: t.fields for n, t in contributed().items()})
