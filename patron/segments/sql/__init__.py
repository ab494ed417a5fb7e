"""SQL of the condition types: one compile function per type, joined to the pure registry.

`compile(cond, ctx)` returns a two-valued SQL boolean (never NULL) over the customers table
and the context's joins, equal to the condition type's `evaluate` in patron.segments.conditions.
A new condition type adds its pure module there and its SQL module here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patron.segments.conditions import REGISTRY
from patron.segments.sql import (
    attributes,
    consent,
    events,
    membership,
    orders,
    profile,
    purchases,
    scores,
)

Compiler = Callable[[Any, Any], Any]
COMPILERS: dict[str, Compiler] = {
    name: compile_
    for module in (attributes, consent, events, membership, orders, profile, purchases, scores)
    for name, compile_ in module.COMPILERS.items()
}
_missing = set(REGISTRY) ^ set(COMPILERS)
if _missing:  # every condition type needs both halves
    raise RuntimeError(f"condition types without both a rule and a compiler: {sorted(_missing)}")
