"""Pure checks of text every store refuses: NUL characters and lone UTF-16 surrogates.

PostgreSQL cannot hold U+0000 in text or JSONB, and no database can encode a lone surrogate
("\\ud800" in JSON) as UTF-8; both would fail deep in a write as a 500.
"""

from __future__ import annotations

import json
import re

# Cheap first look at raw JSON bytes; a hit is confirmed on the parsed value.
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\x00")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What is wrong with a string that no store takes, or None."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    if _SURROGATE.search(value):
        return "must not contain lone UTF-16 surrogates (e.g. \\ud800)"
    return None


def value_problem(value: object, where: str = "body") -> str | None:
    """The first bad string (key or value) in a parsed JSON value, as 'where: problem'."""
    if isinstance(value, str):
        problem = text_problem(value)
        return f"{where} {problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = value_problem(key, f"{where} key") or value_problem(item, f"{where}.{key}")
            if problem:
                return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problem = value_problem(item, f"{where}[{i}]")
            if problem:
                return problem
    return None


def json_problem(body: bytes) -> str | None:
    """The first bad string in a JSON body, or None (also for a body that is not JSON)."""
    if not _SUSPECT_JSON.search(body):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None  # the route's own parser answers for malformed JSON
    return value_problem(parsed)
