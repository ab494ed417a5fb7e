"""Typed domain events: what a service returns and its writer appends to the log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class DomainEvent:
    """Base of every typed event: a type name, the customer it concerns, and its data.

    Subclasses set `type` and add their fields; `data()` is what the log stores as JSON.
    """

    type: ClassVar[str] = "event"
    customer_id: int | None

    def data(self) -> dict[str, Any]:
        """The event's fields but the customer id, as JSON-ready values."""
        # A shallow copy: asdict's deep copy was a third of an import's time.
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "customer_id"
        }


@dataclass(frozen=True)
class StoredEvent:
    """An event as a consumer reads it back from the log."""

    id: int
    position: int
    type: str
    customer_id: int | None
    data: dict[str, Any]
    occurred_at: Any


def event(type_name: str, customer_id: int | None, **data: Any) -> DomainEvent:
    """An untyped event, for tests and one-off producers (typed subclasses are preferred)."""
    return _Adhoc(customer_id=customer_id, name=type_name, payload=data)


@dataclass(frozen=True)
class _Adhoc(DomainEvent):
    """An event built by `event()`: its type is carried per instance."""

    name: str = ""
    payload: dict = dataclasses.field(default_factory=dict)

    @property
    def type(self) -> str:  # type: ignore[override]
        """The type given at construction."""
        return self.name

    def data(self) -> dict[str, Any]:
        """The payload given at construction."""
        return dict(self.payload)
