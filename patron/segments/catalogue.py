"""The condition catalogue the builder page and API clients use to compose rules."""

from __future__ import annotations

from patron.segments.conditions import condition_types
from patron.segments.conditions.jsonvalues import JSON_OPS
from patron.segments.rules import GROUPS


def catalogue(segments: list[tuple[int, str]] | None = None) -> dict:
    """Groups, every condition entry (template and inputs) and the saved segments to refer to."""
    entries = [entry for kind in condition_types().values() for entry in kind.catalogue()]
    return {
        "groups": [[k, v] for k, v in GROUPS.items()],
        "conditions": entries,
        "json_ops": [[k, v] for k, v in JSON_OPS.items()],
        "segments": [[sid, name] for sid, name in (segments or [])],
    }


def members_text(count: int) -> str:
    """'1 member', '1,130 members': a member count as pages and the CLI write it."""
    return f"{count:,} member" + ("" if count == 1 else "s")
