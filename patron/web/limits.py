"""The request body-size limit of every route, applied before the app reads the body."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

MAX_BODY_BYTES = 1_048_576  # 1 MiB: far above any form, customer or order; bounds memory
TOO_LARGE = 413


def own_limits(app: FastAPI, prefix: str) -> None:
    """Let the routes under `prefix` enforce their own (lower) limits and error format."""
    app.state.body_limit_exempt = (*getattr(app.state, "body_limit_exempt", ()), prefix)


class BodyLimit:
    """ASGI middleware refusing request bodies over a size limit with 413, unread by the app.

    A declared Content-Length over the limit is refused at once; a streamed body is counted
    as it arrives and refused as soon as it passes the limit (at most the limit is buffered).
    """

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    def _applies(self, scope) -> bool:
        """Whether this request's body is limited here."""
        if scope["type"] != "http":
            return False
        exempt = getattr(scope["app"].state, "body_limit_exempt", ()) if "app" in scope else ()
        return not any(scope["path"].startswith(p) for p in exempt)

    async def __call__(self, scope, receive, send):
        """Check Content-Length, or count the body while buffering it up to the limit."""
        if not self._applies(scope):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(scope, receive, send)
        if length is not None:
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(scope, receive, send)
        replayed = _replay([{"type": "http.request", "body": body}], receive)
        return await self.app(scope, replayed, send)

    async def _refuse(self, scope, receive, send):
        """Answer 413 with the payload-too-large error."""
        body = {
            "error": "payload_too_large",
            "message": f"request body is larger than {self.limit} bytes",
        }
        await JSONResponse(body, status_code=TOO_LARGE)(scope, receive, send)


def _replay(messages: list[dict], then):
    """An ASGI receive callable that hands out already-read messages, then defers to `then`."""
    pending = list(messages)

    async def receive():
        return pending.pop(0) if pending else await then()

    return receive
