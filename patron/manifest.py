"""Capability manifests: what each capability adds, declared in its own package.

The composition root (`patron.capabilities`) lists the manifests once; the kernel iterates over
them (`Registry`) and never names a capability. Extension points that a capability owns (segment
condition types, message template context) are open `contributes` keys: another capability adds
to them without the owner importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from patron.config import Setting


@dataclass(frozen=True)
class NavItem:
    """A link in the dashboard's top bar."""

    href: str
    label: str
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A block on the customer page: a template and the function that gives its context.

    `context(session=, customer_id=)` returns the template's variables, or None to hide it;
    with `wants_settings` it is also given `settings=` (the process's Settings).
    """

    name: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100
    wants_settings: bool = False


@dataclass(frozen=True)
class Consumer:
    """Reacts to domain events, reading the event log with its own cursor, as a job.

    `handle(session=, events=, now=)` writes only to the database: its effects commit together
    with the advanced cursor, so each event is handled exactly once per consumer. Outside
    effects (HTTP, SMTP) are enqueued as jobs or delivery rows, never performed here.
    """

    name: str
    event_types: frozenset[str]
    handle: Callable[..., None]
    batch: int = 200


@dataclass(frozen=True)
class JobHandler:
    """Runs jobs of one kind.

    With `outside=False` the handler is `run(session=, now=, payload=)` and its database effects
    commit with the job's completion. With `outside=True` it is `run(ctx=, now=, payload=)` with
    a `patron.jobs.context.JobContext`: it runs outside any transaction, opens its own, and wraps
    each outside effect in `ctx.effect(key, perform)` so that it is never performed twice.
    """

    kind: str
    run: Callable[..., Any]
    queue: str = "default"
    outside: bool = False
    max_attempts: int = 5


@dataclass(frozen=True)
class Schedule:
    """A job enqueued once per period, whatever the number of workers."""

    kind: str
    every_minutes: Callable[[Any], int]
    queue: str = "default"
    max_attempts: int = 2
    payload: Callable[[Any], dict] | None = None


@dataclass(frozen=True)
class Manifest:
    """Everything one capability adds to Patron."""

    name: str
    routers: tuple[Any, ...] = ()
    commands: Callable[[Any], None] | None = None
    tables: tuple[ModuleType, ...] = ()
    event_types: tuple[str, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    jobs: tuple[JobHandler, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    nav: tuple[NavItem, ...] = ()
    panels: tuple[Panel, ...] = ()
    settings: tuple[Setting, ...] = ()
    contributes: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    templates: Path | None = None
    static: Path | None = None
    setup_app: Callable[[Any], None] | None = None


class Registry:
    """The manifests of one process, with lookups the kernel uses."""

    def __init__(self, manifests: tuple[Manifest, ...]):
        names = [m.name for m in manifests]
        if len(set(names)) != len(names):
            raise ValueError(f"two capabilities share a name: {names}")
        self.manifests = manifests

    def routers(self) -> list[Any]:
        """Every capability's routers, in manifest order."""
        return [r for m in self.manifests for r in m.routers]

    def consumers(self) -> dict[str, Consumer]:
        """Event consumers by name."""
        return {c.name: c for m in self.manifests for c in m.consumers}

    def job_handlers(self) -> dict[str, JobHandler]:
        """Job handlers by kind."""
        return {j.kind: j for m in self.manifests for j in m.jobs}

    def schedules(self) -> list[Schedule]:
        """Every periodic job."""
        return [s for m in self.manifests for s in m.schedules]

    def nav(self) -> list[NavItem]:
        """Top-bar links, by order."""
        return sorted((n for m in self.manifests for n in m.nav), key=lambda n: n.order)

    def panels(self) -> list[Panel]:
        """Customer-page panels, by order."""
        return sorted((p for m in self.manifests for p in m.panels), key=lambda p: p.order)

    def settings(self) -> list[Setting]:
        """The settings capabilities add beside the kernel's."""
        return [s for m in self.manifests for s in m.settings]

    def event_types(self) -> list[str]:
        """Every domain event type a capability publishes."""
        return [t for m in self.manifests for t in m.event_types]

    def contributions(self, point: str) -> list[Any]:
        """What every capability contributes to an extension point."""
        return [c for m in self.manifests for c in m.contributes.get(point, ())]

    def template_dirs(self) -> list[Path]:
        """Template folders of the capabilities that have pages."""
        return [m.templates for m in self.manifests if m.templates]

    def app_setups(self) -> list[Callable[[Any], None]]:
        """Functions that install middleware, mounts or handlers on the web app."""
        return [m.setup_app for m in self.manifests if m.setup_app]

    def static_dirs(self) -> list[Path]:
        """Static asset folders of the capabilities that have them."""
        return [m.static for m in self.manifests if m.static]


_installed: Registry | None = None


def install(registry: Registry) -> None:
    """Make this registry the process's own (done once by the composition root)."""
    global _installed
    _installed = registry


def installed() -> Registry:
    """The process's registry; loads the composition root on first use."""
    if _installed is None:
        import importlib

        # The one place the kernel reaches the composition root, by its fixed module name.
        importlib.import_module("patron.capabilities").boot()
    assert _installed is not None
    return _installed


def contributions(point: str) -> list[Any]:
    """What every installed capability contributes to an extension point."""
    return installed().contributions(point)
