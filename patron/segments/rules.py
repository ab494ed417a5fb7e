"""The rule tree: and / or / not groups over registered conditions, validated with paths.

JSON shape: a group `{"type": "and" | "or" | "not", "children": [node, ...]}` (`not` holds when
none of its children does) or a condition `{"type": "<condition type>", ...}` (see conditions/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from patron.errors import InvalidInput
from patron.segments.conditions import condition_types

GROUPS = {"and": "all of", "or": "any of", "not": "none of"}
MAX_DEPTH = 10
MAX_NODES = 200


@dataclass(frozen=True)
class Group:
    """An and / or / not group of child nodes."""

    type: str
    children: tuple[Node, ...]


Node = Group | BaseModel


class _Parse:
    """Parsing state: the errors found and the number of nodes seen."""

    def __init__(self) -> None:
        self.errors: list[dict] = []
        self.nodes = 0

    def fail(self, path: str, message: str) -> None:
        """Record an error at path."""
        self.errors.append({"path": path, "message": message})


def parse_tree(data: Any, *, path: str = "rules") -> Node:
    """Validate a JSON rule tree; InvalidInput lists every problem with its path."""
    state = _Parse()
    node = _parse(data, path, 0, state)
    if state.nodes > MAX_NODES:
        state.fail(path, f"a rule tree may hold at most {MAX_NODES} rules")
    if state.errors or node is None:
        first = state.errors[0]
        raise InvalidInput(f"{first['path']}: {first['message']}", details=state.errors)
    return node


def _parse(data: Any, path: str, depth: int, state: _Parse) -> Node | None:
    """Parse one node, recording errors instead of raising."""
    state.nodes += 1
    if not isinstance(data, dict):
        state.fail(path, "must be an object with a type")
        return None
    kind = data.get("type")
    if kind in GROUPS:
        return _parse_group(data, path, depth, state)
    types = condition_types()
    if not isinstance(kind, str) or kind not in types:
        choices = ", ".join([*GROUPS, *types])
        state.fail(f"{path}.type", f"unknown rule type {kind!r}; choose one of {choices}")
        return None
    try:
        return types[kind].model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            state.fail(_join(path, error["loc"]), _message(error))
        return None


def _parse_group(data: dict, path: str, depth: int, state: _Parse) -> Group | None:
    """Parse an and / or / not group."""
    if depth >= MAX_DEPTH:
        state.fail(path, f"groups may nest at most {MAX_DEPTH} deep")
        return None
    extra = set(data) - {"type", "children"}
    if extra:
        state.fail(f"{path}.{sorted(extra)[0]}", "unknown field of a group")
    children = data.get("children")
    if not isinstance(children, list) or not children:
        state.fail(f"{path}.children", "a group needs at least one rule")
        return None
    parsed = [
        _parse(child, f"{path}.children[{i}]", depth + 1, state) for i, child in enumerate(children)
    ]
    if any(child is None for child in parsed):
        return None
    return Group(data["type"], tuple(parsed))


def _join(path: str, loc: tuple) -> str:
    """Append a Pydantic error location to a rule path."""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: dict) -> str:
    """A Pydantic error message without its 'Value error, ' prefix."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return error["msg"]


def to_json(node: Node) -> dict:
    """The JSON form of a parsed tree (what is stored)."""
    if isinstance(node, Group):
        return {"type": node.type, "children": [to_json(c) for c in node.children]}
    return node.model_dump(mode="json", exclude_defaults=False)


def walk(node: Node, path: str = "rules") -> Iterator[tuple[str, BaseModel]]:
    """Every condition of a tree with its path."""
    if isinstance(node, Group):
        for i, child in enumerate(node.children):
            yield from walk(child, f"{path}.children[{i}]")
    else:
        yield path, node


def referenced_segments(node: Node) -> list[tuple[str, int]]:
    """(path, segment id) of every segment-membership condition."""
    return [(path, c.segment_id) for path, c in walk(node) if c.type == "segment"]


def find_cycle(start: int, references: Callable[[int], list[int]]) -> list[int] | None:
    """A cycle of segment references through start (as a list of ids), or None."""
    stack: list[tuple[int, list[int]]] = [(ref, [start, ref]) for ref in references(start)]
    seen: set[int] = set()
    while stack:
        current, trail = stack.pop()
        if current == start:
            return trail
        if current in seen:
            continue
        seen.add(current)
        stack.extend((ref, [*trail, ref]) for ref in references(current))
    return None


def activity_driven(node: Node, resolve: Callable[[int], Node | None]) -> bool:
    """Whether an order or event can change which customers match (segments resolved)."""
    for _path, cond in walk(node):
        if cond.type == "segment":
            inner = resolve(cond.segment_id)
            if inner is not None and activity_driven(inner, resolve):
                return True
        elif condition_types()[cond.type].activity:
            return True
    return False


def describe(node: Node) -> str:
    """A one-line human reading of a tree."""
    if isinstance(node, Group):
        inner = "; ".join(describe(c) for c in node.children)
        return f"{GROUPS[node.type]} ({inner})"
    return condition_types()[node.type].describe(node)
