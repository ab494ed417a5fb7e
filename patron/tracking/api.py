"""Segment-compatible HTTP tracking API under /v1/: identify, track, page, screen, group,
alias and batch (also as /v1/import).

Authentication: the write key (an API key with the track scope) as the HTTP Basic user name,
as `Authorization: Bearer <key>`, or as `writeKey` in the JSON body. A batch is all or
nothing: one invalid message refuses the whole request with 400, as Segment does.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from patron.db import utcnow
from patron.errors import Unauthorized
from patron.tracking import rules, service
from patron.web.limits import own_limits

router = APIRouter(prefix="/v1", tags=["tracking"])
_OK = b'{"success":true}'
# Bodies are read up to their limit plus this slack (a gzipped body may be a little larger).
_SLACK = 64 * 1024
_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}}
        },
    }
}


def install(app: FastAPI) -> None:
    """Give the app its cache of checked write keys and its writer gate.

    Tracking enforces its own, lower body limits (32 KB a message, 500 KB a batch) in
    Segment's error format while streaming, so the kernel's 1 MiB limit leaves /v1/ to it.
    """
    own_limits(app, "/v1/")
    app.state.write_keys = service.WriteKeys()
    app.state.tracking_gate = service.writer_gate(app.state.engine)


def _header_key(request: Request) -> str | None:
    """The write key from a Basic (user name) or Bearer Authorization header."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic Authorization header is malformed")
    return user or None


async def _read(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it grows past what the limit allows."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + _SLACK:
            raise rules.too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _handle(request: Request, raw: bytes, type_: str | None) -> None:
    """Decode, authenticate, validate and store one request's messages."""
    limit = rules.MAX_BATCH_BYTES if type_ is None else rules.MAX_MESSAGE_BYTES
    factory, keys = request.app.state.sessions, request.app.state.write_keys
    key = _header_key(request)
    if key:
        keys.check(factory=factory, key=key)
    body = rules.decode_body(raw, request.headers.get("content-encoding"), limit=limit)
    data = rules.parse_json(body, limit=limit)
    if not key:
        key = data.get("writeKey")
        if not key or not isinstance(key, str):
            raise Unauthorized(
                "a write key is required: send it as the Basic auth user "
                "name or as writeKey in the body"
            )
        keys.check(factory=factory, key=key)
    now = utcnow()
    if type_ is None:
        messages = rules.batch(data, body_size=len(body), received_at=now, new_id=_new_id)
    else:
        messages = [rules.single(data, type_=type_, received_at=now, new_id=_new_id)]
    service.ingest(
        factory=factory, messages=messages, now=now, gate=request.app.state.tracking_gate
    )


def _new_id() -> str:
    """A fresh message id for a message that came without one."""
    return str(uuid.uuid4())


async def _endpoint(request: Request, type_: str | None) -> Response:
    """Shared body of every tracking endpoint: answers 200 {"success": true}."""
    limit = rules.MAX_BATCH_BYTES if type_ is None else rules.MAX_MESSAGE_BYTES
    raw = await _read(request, limit)
    await run_in_threadpool(_handle, request, raw, type_)
    return Response(_OK, media_type="application/json")


def _single(type_: str):
    """A handler for one message of this type."""

    async def handler(request: Request) -> Response:
        return await _endpoint(request, type_)

    handler.__doc__ = f"Record one {type_} call (Segment HTTP Tracking API)."
    return handler


for _type in rules.TYPES:
    router.add_api_route(
        f"/{_type}",
        _single(_type),
        methods=["POST"],
        openapi_extra=_DOC,
        name=f"track_{_type}",
        summary=f"Segment {_type}",
    )


@router.post("/batch", openapi_extra=_DOC, summary="Segment batch")
async def batch(request: Request) -> Response:
    """Record up to 500 KB of messages of any type, all or none."""
    return await _endpoint(request, None)


@router.post("/import", openapi_extra=_DOC, summary="Segment import (alias of batch)")
async def import_(request: Request) -> Response:
    """Alias of /v1/batch used by older Segment clients."""
    return await _endpoint(request, None)
