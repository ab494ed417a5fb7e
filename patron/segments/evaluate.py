"""Evaluate a rule tree against one customer's facts in plain Python (the SQL's reference)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from patron.segments.conditions import condition_types
from patron.segments.facts import Facts
from patron.segments.rules import Group, Node


@dataclass
class EvalContext:
    """What conditions evaluate against: now and the trees of referenced segments."""

    now: datetime
    resolve: Callable[[int], Node | None] | None = None
    inlining: list[int] = field(default_factory=list)

    def evaluate_segment(self, segment_id: int, facts: Facts) -> bool:
        """Whether facts match another segment's rules (unknown segments match no one)."""
        tree = self.resolve(segment_id) if self.resolve else None
        if tree is None or segment_id in self.inlining:
            return False
        self.inlining.append(segment_id)
        try:
            return _evaluate(tree, facts, self)
        finally:
            self.inlining.pop()


def evaluate(
    tree: Node, facts: Facts, *, now: datetime, resolve: Callable[[int], Node | None] | None = None
) -> bool:
    """Whether the customer described by facts matches the tree at now."""
    return _evaluate(tree, facts, EvalContext(now=now, resolve=resolve))


def _evaluate(node: Node, facts: Facts, ectx: EvalContext) -> bool:
    """Evaluate one node."""
    if isinstance(node, Group):
        results = [_evaluate(child, facts, ectx) for child in node.children]
        return {"and": all, "or": any}.get(node.type, lambda r: not any(r))(results)
    return bool(condition_types()[node.type].evaluate(node, facts, ectx))
