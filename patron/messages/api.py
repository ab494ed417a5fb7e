"""REST API of messages: templates, `POST /api/messages` (send now), a customer's messages,
and the inbound endpoint of bounces and complaints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.errors import Unauthorized
from patron.messages import bounces, inbound, service, suppressions
from patron.messages.schemas import (
    MessagePage,
    MessageRead,
    SendBody,
    SuppressionBody,
    TemplateBody,
    TemplateRead,
    VariantBody,
)
from patron.web import pagination

router = APIRouter(prefix="/api", tags=["messages"])


def _input(body: TemplateBody) -> service.TemplateInput:
    """The service's input from the request body."""
    return service.TemplateInput(
        name=body.name,
        channel=body.channel,
        kind=body.kind,
        topic=body.topic,
        layout_id=body.layout_id,
        variants=[service.VariantInput(**v.model_dump()) for v in body.variants],
    )


def _read(session: Session, template) -> TemplateRead:
    """A template with its variants as the API shows it."""
    variants = service.variants_of(session=session, template_id=template.id)
    return TemplateRead(
        id=template.id,
        name=template.name,
        channel=template.channel,
        kind=template.kind,
        topic=template.topic,
        layout_id=template.layout_id,
        created_at=template.created_at,
        updated_at=template.updated_at,
        variants=[VariantBody.model_validate(v) for v in variants],
    )


@router.post(
    "/templates",
    status_code=201,
    response_model=TemplateRead,
    summary="Create a template (refused with the line and name of any error)",
    dependencies=WRITE,
)
def create_template(body: TemplateBody, session: Session = SESSION):
    """Creates a template after rendering it against a customer's context."""
    template = service.create_template(
        session=session,
        data=_input(body),
        now=utcnow(),
        customer_id=body.validate_with_customer_id,
    )
    return _read(session, template)


@router.put(
    "/templates/{template_id}",
    response_model=TemplateRead,
    summary="Replace a template and its variants",
    dependencies=WRITE,
)
def update_template(template_id: int, body: TemplateBody, session: Session = SESSION):
    """Replaces a template, validated like a new one."""
    template = service.update_template(
        session=session,
        template_id=template_id,
        data=_input(body),
        now=utcnow(),
        customer_id=body.validate_with_customer_id,
    )
    return _read(session, template)


@router.get(
    "/templates", response_model=list[TemplateRead], summary="List templates", dependencies=READ
)
def list_templates(session: Session = READ_SESSION):
    """Every template with its variants, by name."""
    return [_read(session, t) for t in service.list_templates(session=session)]


@router.get(
    "/templates/{template_id}",
    response_model=TemplateRead,
    summary="Get a template",
    dependencies=READ,
)
def get_template(template_id: int, session: Session = READ_SESSION):
    """One template with its variants."""
    return _read(session, service.get_template(session=session, template_id=template_id))


@router.post(
    "/messages",
    status_code=202,
    response_model=MessageRead,
    summary="Send a template to one customer now (transactional; Idempotency-Key dedupes)",
    dependencies=WRITE,
)
def send_message(
    body: SendBody,
    response: Response,
    session: Session = SESSION,
    idempotency_key: str | None = Header(
        None, max_length=255, description="The same key again returns the same message."
    ),
):
    """Queues the message on the transactional lane; a repeated key returns the first one."""
    row, created = service.send_now(
        session=session,
        template_id=body.template_id,
        customer_id=body.customer_id,
        idempotency_key=idempotency_key,
        data=body.data,
        now=utcnow(),
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return MessageRead.model_validate(row)


@router.get(
    "/messages/{message_id}",
    response_model=MessageRead,
    summary="Get a message and its state",
    dependencies=READ,
)
def get_message(message_id: int, session: Session = READ_SESSION):
    """One outbox row: state, reason, attempts, Message-ID."""
    return MessageRead.model_validate(service.get_message(session=session, outbox_id=message_id))


@router.get(
    "/customers/{customer_id}/messages",
    response_model=MessagePage,
    summary="A customer's messages, newest first",
    dependencies=READ,
)
def customer_messages(
    customer_id: int,
    limit: int = pagination.LIMIT,
    cursor: str | None = pagination.CURSOR,
    session: Session = READ_SESSION,
):
    """The customer's message log, one page at a time."""
    after = pagination.decode(cursor)
    rows = service.messages_of(
        session=session,
        customer_id=customer_id,
        after_id=after.id if after else None,
        limit=limit + 1,
    )
    page = pagination.page(rows, limit, key=lambda m: (m.id, m.id))
    return MessagePage(
        items=[MessageRead.model_validate(m) for m in page["items"]],
        next_cursor=page["next_cursor"],
    )


async def _raw_body(request: Request) -> bytes:
    """The request body as bytes (a provider's JSON or a raw DSN)."""
    return await request.body()


@router.post("/messages/inbound/{provider}", status_code=200)
def inbound_notification(
    request: Request,
    provider: str,
    key: str | None = None,
    body: bytes = Depends(_raw_body),
    session: Session = SESSION,
) -> dict:
    """Bounces and complaints from a provider (generic, ses, postmark, dsn); key in the URL."""
    now = utcnow()
    if not inbound.key_valid(request.app.state.settings.secret_key, provider, key, now=now):
        raise Unauthorized("the inbound key is missing or not the one of this provider")
    parsed = bounces.parse(provider, body)
    applied = inbound.apply(session, parsed, now=now)
    return {
        "notices": len(parsed.notices),
        "suppressed": applied.suppressed,
        "soft": applied.soft,
        "complaints": applied.complaints,
        "matched": applied.matched,
        "subscription_confirmation": parsed.subscribe_url is not None,
    }


@router.get("/suppressions", dependencies=READ)
def list_suppressions(
    after: str | None = None,
    search: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    session: Session = READ_SESSION,
) -> dict:
    """The suppression list in address order; `after` is the last address of the page before."""
    rows = suppressions.list_suppressions(
        session=session, after=after, limit=limit + 1, search=search
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [
            {
                "address": r.address,
                "reason": r.reason,
                "detail": r.detail,
                "created_at": r.created_at,
            }
            for r in rows
        ],
        "next_after": rows[-1].address if more else None,
    }


@router.post("/suppressions", dependencies=WRITE, status_code=201)
def add_suppression(body: SuppressionBody, session: Session = SESSION) -> dict:
    """Suppress an address by hand (reason manual)."""
    created = suppressions.add_manual(
        session=session, address=body.address, detail=body.detail, now=utcnow()
    )
    return {"address": body.address.strip().lower(), "created": created}


@router.delete("/suppressions/{address}", dependencies=WRITE, status_code=204)
def clear_suppression(address: str, session: Session = SESSION) -> Response:
    """Clear an address from the suppression list: the explicit action it needs."""
    suppressions.clear(session=session, address=address)
    return Response(status_code=204)
