"""The registry of condition types: each one validates, evaluates and describes itself.

Pure rules (stdlib and Pydantic only): compiling a condition to SQL lives in patron.segments.sql.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

MAX_DAYS = 36500
MAX_COUNT = 1_000_000_000
MAX_CENTS = 10**13
MAX_TEXT = 255


class ConditionModel(BaseModel):
    """Base of every condition's parameters: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    type: str


@dataclass(frozen=True)
class ConditionType:
    """One kind of condition a rule tree may contain.

    `evaluate(cond, facts, ectx)` is the predicate in plain Python (the reference its SQL
    compiler in patron.segments.sql must match); `activity` says whether recording an order
    or event can change its truth for a customer.
    """

    name: str
    label: str
    model: type[ConditionModel]
    evaluate: Callable[[Any, Any, Any], bool]
    describe: Callable[[Any], str]
    activity: bool
    catalogue: Callable[[], list[dict]]


REGISTRY: dict[str, ConditionType] = {}
# Extension point: other capabilities contribute `ContributedCondition`s in their manifests.
POINT = "segments.conditions"


@dataclass(frozen=True)
class ContributedCondition:
    """A condition type another capability adds (`contributes={"segments.conditions": ...}`).

    `kind` is its pure half, as above; `compile(cond, ctx)` its SQL half, a two-valued boolean
    over the customers table and the context's joins (see patron.segments.sql). Its `evaluate`
    reads what it needs from `facts.extra` (the reference evaluator; membership is SQL).
    """

    kind: ConditionType
    compile: Callable[[Any, Any], Any]


# Where contributed types come from: segments' manifest adds the capabilities' contributions
# (this pure module never reads manifests itself).
_SOURCES: list[Callable[[], Any]] = []


def add_source(source: Callable[[], Any]) -> None:
    """Add a callable returning ContributedConditions (done once by segments' manifest)."""
    _SOURCES.append(source)


def contributed() -> dict[str, ContributedCondition]:
    """Condition types the installed capabilities contribute, by name."""
    found = (c for source in _SOURCES for c in source())
    return {c.kind.name: c for c in found if c.kind.name not in REGISTRY}


def condition_types() -> dict[str, ConditionType]:
    """Built-in condition types and contributed ones, by name."""
    return {**REGISTRY, **{name: c.kind for name, c in contributed().items()}}


def register(kind: ConditionType) -> ConditionType:
    """Add a condition type to the registry (one call per condition module)."""
    REGISTRY[kind.name] = kind
    return kind


def condition_type(name: str) -> ConditionType:
    """The registered condition type called name (KeyError when unknown)."""
    return REGISTRY[name]


def check_days(value: int | None) -> int | None:
    """Refuse day counts outside 0..36500 (a century)."""
    if value is not None and not 0 <= value <= MAX_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_DAYS}")
    return value


def check_count(value: int) -> int:
    """Refuse counts outside 0..1e9."""
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"count must be between 0 and {MAX_COUNT}")
    return value


def check_text(value: str) -> str:
    """Refuse empty or overlong strings."""
    if not value or len(value) > MAX_TEXT:
        raise ValueError(f"must be 1 to {MAX_TEXT} characters")
    return value
