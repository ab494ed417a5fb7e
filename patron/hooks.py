"""In-process hooks: capabilities react to customer activity without the writer knowing them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

# A listener gets the session of the writing transaction, the customers touched and `now`.
ActivityListener = Callable[[Session, set[int], datetime], None]
_activity_listeners: list[ActivityListener] = []
# Modules that register listeners when imported; loaded before the first notification so that
# every process (server, CLI, worker, tests) reacts the same way.
LISTENER_MODULES = ("patron.segments.service",)
_loaded = False


def load_listeners() -> None:
    """Import every listener module once."""
    global _loaded
    if not _loaded:
        for name in LISTENER_MODULES:
            importlib.import_module(name)
        _loaded = True


def on_customer_activity(listener: ActivityListener) -> ActivityListener:
    """Register a listener called after orders or events change some customers."""
    if listener not in _activity_listeners:
        _activity_listeners.append(listener)
    return listener


def customer_activity(session: Session, customer_ids: Iterable[int], now: datetime) -> None:
    """Tell every listener, inside the writing transaction, that these customers changed."""
    ids = {int(i) for i in customer_ids if i is not None}
    if not ids:
        return
    load_listeners()
    for listener in list(_activity_listeners):
        listener(session, ids, now)
