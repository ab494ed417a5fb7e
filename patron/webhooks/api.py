"""REST API of webhooks under /api/webhooks: `read` scope to read, `admin` to change."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import ADMIN, READ, SESSION
from patron.errors import InvalidInput
from patron.webhooks import service
from patron.webhooks.schemas import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    EventTypes,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after the item with last_id."""
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for, or InvalidInput when it was not made by encode_cursor."""
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput("cursor is not valid: pass the next_cursor of a previous page")


def _with_secret(endpoint) -> EndpointWithSecret:
    """The endpoint's body including its secret."""
    return EndpointWithSecret.model_validate(
        {**EndpointRead.model_validate(endpoint).model_dump(), "secret": endpoint.secret}
    )


@router.get(
    "/event-types", response_model=EventTypes, summary="Subscribable types", dependencies=READ
)
def event_types():
    """Lists the event types an endpoint may subscribe to."""
    return EventTypes(event_types=service.subscribable_types())


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointWithSecret,
    summary="Register an endpoint (its secret is returned this once)",
    dependencies=ADMIN,
)
def create_endpoint(body: EndpointCreate, session: Session = SESSION):
    """Creates an endpoint with a fresh `whsec_` secret."""
    endpoint = service.create_endpoint(
        session=session,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
        now=utcnow(),
    )
    return _with_secret(endpoint)


@router.get(
    "/endpoints", response_model=list[EndpointRead], summary="List endpoints", dependencies=READ
)
def list_endpoints(session: Session = SESSION):
    """Every endpoint, oldest first."""
    return service.list_endpoints(session=session)


@router.get(
    "/endpoints/{endpoint_id}",
    response_model=EndpointRead,
    summary="Get an endpoint",
    dependencies=READ,
)
def get_endpoint(endpoint_id: int, session: Session = SESSION):
    """One endpoint (without its secret)."""
    return service.get_endpoint(session=session, endpoint_id=endpoint_id)


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointRead,
    summary="Change an endpoint; enabled=true re-enables it",
    dependencies=ADMIN,
)
def update_endpoint(endpoint_id: int, body: EndpointUpdate, session: Session = SESSION):
    """Changes the fields sent."""
    return service.update_endpoint(
        session=session,
        endpoint_id=endpoint_id,
        now=utcnow(),
        **body.model_dump(exclude_unset=True),
    )


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=204,
    response_model=None,
    summary="Delete an endpoint with its deliveries",
    dependencies=ADMIN,
)
def delete_endpoint(endpoint_id: int, session: Session = SESSION) -> None:
    """Deletes the endpoint, its deliveries and their attempts."""
    service.delete_endpoint(session=session, endpoint_id=endpoint_id)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointWithSecret,
    summary="Replace the signing secret (the new one is returned this once)",
    dependencies=ADMIN,
)
def rotate_secret(endpoint_id: int, session: Session = SESSION):
    """Signs every later attempt with a new secret."""
    return _with_secret(
        service.rotate_secret(session=session, endpoint_id=endpoint_id, now=utcnow())
    )


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=202,
    response_model=DeliveryRead,
    summary="Send a webhook.test ping",
    dependencies=ADMIN,
)
def send_test(endpoint_id: int, session: Session = SESSION):
    """Queues a ping to the endpoint; its delivery shows how it went."""
    return service.send_test(session=session, endpoint_id=endpoint_id, now=utcnow())


@router.get(
    "/deliveries",
    response_model=DeliveryPage,
    summary="List deliveries, newest first (cursor pagination)",
    dependencies=READ,
)
def list_deliveries(
    endpoint_id: int | None = Query(None, description="Only this endpoint's deliveries."),
    state: str | None = Query(None, description="pending, delivering, succeeded or failed."),
    limit: int = Query(50, ge=1, le=500, description="Items per page (1-500)."),
    cursor: str | None = Query(None, max_length=64, description="`next_cursor` of the last page."),
    session: Session = SESSION,
):
    """Deliveries with their state, last status code and error."""
    if endpoint_id is not None:
        service.get_endpoint(session=session, endpoint_id=endpoint_id)
    items = service.list_deliveries(
        session=session,
        endpoint_id=endpoint_id,
        state=state,
        before_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page = items[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(items) > limit else None
    return DeliveryPage(items=page, next_cursor=next_cursor)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryRead,
    summary="Get a delivery",
    dependencies=READ,
)
def get_delivery(delivery_id: int, session: Session = SESSION):
    """One delivery."""
    return service.get_delivery(session=session, delivery_id=delivery_id)


@router.get(
    "/deliveries/{delivery_id}/attempts",
    response_model=list[AttemptRead],
    summary="The attempts of a delivery",
    dependencies=READ,
)
def list_attempts(delivery_id: int, session: Session = SESSION):
    """Every POST of the delivery: status code, duration, error, response start."""
    return service.list_attempts(session=session, delivery_id=delivery_id)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryRead,
    summary="Send a delivery again now, with the same webhook-id",
    dependencies=ADMIN,
)
def redeliver(delivery_id: int, session: Session = SESSION):
    """Queues another attempt (409 while one is in flight or the endpoint is disabled)."""
    return service.redeliver(session=session, delivery_id=delivery_id, now=utcnow())
