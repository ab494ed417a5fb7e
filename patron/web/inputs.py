"""The request guard every route gets: strings no store can hold are refused with 422."""

from __future__ import annotations

from fastapi import Depends, Request

from patron.errors import InvalidInput
from patron.text import json_problem, text_problem

# Tracking reads its own body as it streams, within its own limits, and checks it there.
OWN_BODY_CHECK = ("/v1/",)


async def refuse_unstorable_text(request: Request) -> None:
    """Refuse NUL characters and lone surrogates in the path, the query and a JSON body."""
    for where, items in (
        ("path", request.path_params.items()),
        ("query", request.query_params.multi_items()),
    ):
        for name, value in items:
            problem = isinstance(value, str) and text_problem(value)
            if problem:
                raise InvalidInput(f"{name} ({where}) {problem}")
    if request.url.path.startswith(OWN_BODY_CHECK):
        return
    if "json" in request.headers.get("content-type", ""):
        problem = json_problem(await request.body())
        if problem:
            raise InvalidInput(problem)


TEXT_GUARD = Depends(refuse_unstorable_text)
