"""Use cases of webhooks: endpoints, their secrets, deliveries and attempts, redelivery, pings."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from patron.errors import Conflict, InvalidInput, NotFound
from patron.jobs import service as jobs
from patron.manifest import installed
from patron.webhooks import rules
from patron.webhooks.tables import (
    DELIVERY_STATES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

DELIVER_JOB = "webhooks.deliver"
# Types the kernel's writers append; capabilities add theirs through manifests' event_types.
BUILTIN_EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.merged",
    "consent.changed",
    "order.completed",
    "order.refunded",
    "order.cancelled",
    "event.tracked",
    "segment.entered",
    "segment.exited",
    "lifecycle.changed",
    "scores.refreshed",
)


def subscribable_types() -> list[str]:
    """Every event type an endpoint may subscribe to."""
    return sorted({*BUILTIN_EVENT_TYPES, *installed().event_types()})


def new_secret() -> str:
    """A fresh `whsec_` signing secret (32 random bytes)."""
    return rules.format_secret(secrets.token_bytes(32))


# Endpoints ------------------------------------------------------------------------------------


def create_endpoint(
    *,
    session: Session,
    url: str,
    event_types: list[str],
    now: datetime,
    description: str = "",
    enabled: bool = True,
) -> WebhookEndpoint:
    """Registers an endpoint; its `secret` is to be shown to the operator once."""
    endpoint = WebhookEndpoint(
        url=rules.validate_url(url),
        description=_description(description),
        secret=new_secret(),
        event_types=rules.validate_event_types(event_types, subscribable_types()),
        enabled=enabled,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    if not enabled:
        endpoint.disabled_reason, endpoint.disabled_at = "disabled by a user", now
    session.add(endpoint)
    session.flush()
    return endpoint


def _description(text: str | None) -> str:
    """A description of at most 500 characters."""
    text = (text or "").strip()
    if len(text) > 500:
        raise InvalidInput("description: at most 500 characters")
    return text


def list_endpoints(*, session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(*, session: Session, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint, or NotFound."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint with id {endpoint_id}")
    return endpoint


def update_endpoint(
    *,
    session: Session,
    endpoint_id: int,
    now: datetime,
    url: str | None = None,
    description: str | None = None,
    event_types: list[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Changes the fields given; enabling clears the failures, disabling stops deliveries."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    if url is not None:
        endpoint.url = rules.validate_url(url)
    if description is not None:
        endpoint.description = _description(description)
    if event_types is not None:
        endpoint.event_types = rules.validate_event_types(event_types, subscribable_types())
    if enabled is True and not endpoint.enabled:
        enable_endpoint(session=session, endpoint_id=endpoint_id, now=now)
    elif enabled is False and endpoint.enabled:
        disable_endpoint(session=session, endpoint_id=endpoint_id, now=now)
    endpoint.updated_at = now
    return endpoint


def delete_endpoint(*, session: Session, endpoint_id: int) -> None:
    """Deletes an endpoint with its deliveries and attempts."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    session.delete(endpoint)
    session.flush()


def rotate_secret(*, session: Session, endpoint_id: int, now: datetime) -> WebhookEndpoint:
    """Replaces the signing secret at once; the next attempts are signed with the new one."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    endpoint.secret, endpoint.updated_at = new_secret(), now
    return endpoint


def enable_endpoint(*, session: Session, endpoint_id: int, now: datetime) -> WebhookEndpoint:
    """Turns an endpoint back on with a clean failure record (earlier deliveries stay failed)."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
    endpoint.consecutive_failures, endpoint.failing_since = 0, None
    endpoint.updated_at = now
    return endpoint


def disable_endpoint(
    *, session: Session, endpoint_id: int, now: datetime, reason: str = "disabled by a user"
) -> WebhookEndpoint:
    """Turns an endpoint off: no new deliveries, its waiting ones fail with the reason."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, now
    endpoint.updated_at = now
    stop_pending(session=session, endpoint_id=endpoint_id, reason=reason)
    return endpoint


def stop_pending(*, session: Session, endpoint_id: int, reason: str) -> int:
    """Fails the endpoint's deliveries waiting for an attempt (not test pings)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.state == "pending",
            WebhookDelivery.event_type != rules.TEST_EVENT_TYPE,
        )
        .values(state="failed", next_attempt_at=None, last_error=f"endpoint disabled: {reason}")
    )
    return result.rowcount or 0


# Deliveries -----------------------------------------------------------------------------------


def new_delivery(
    *, session: Session, endpoint_id: int, event_id: int | None, payload: dict, now: datetime
) -> WebhookDelivery:
    """A delivery due now, with its job enqueued."""
    delivery = WebhookDelivery(
        delivery_id=str(uuid.uuid4()),
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=payload["type"],
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    schedule(session=session, delivery=delivery, now=now)
    return delivery


def schedule(*, session: Session, delivery: WebhookDelivery, now: datetime) -> None:
    """Enqueues the job of the delivery's next attempt.

    The dedupe key names the delivery and the attempt's due time: one job per scheduled
    attempt, while the job that schedules a retry is itself still active.
    """
    due = delivery.next_attempt_at or now
    jobs.enqueue(
        session=session,
        kind=DELIVER_JOB,
        payload={"delivery": delivery.id},
        run_at=due,
        now=now,
        dedupe_key=f"{DELIVER_JOB}:{delivery.id}:{due.timestamp():.6f}",
        max_attempts=10,
    )


def send_test(*, session: Session, endpoint_id: int, now: datetime) -> WebhookDelivery:
    """Sends a `webhook.test` ping (even to a disabled endpoint, to check it before enabling)."""
    endpoint = get_endpoint(session=session, endpoint_id=endpoint_id)
    payload = rules.event_payload(
        event_type=rules.TEST_EVENT_TYPE,
        event_id=None,
        customer_id=None,
        occurred_at=now,
        data={"message": "Test ping from Patron", "endpoint_id": endpoint.id},
    )
    return new_delivery(
        session=session, endpoint_id=endpoint.id, event_id=None, payload=payload, now=now
    )


def get_delivery(*, session: Session, delivery_id: int) -> WebhookDelivery:
    """One delivery, or NotFound."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery with id {delivery_id}")
    return delivery


def list_deliveries(
    *,
    session: Session,
    endpoint_id: int | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """Deliveries newest first, optionally of one endpoint or in one state."""
    if state is not None and state not in DELIVERY_STATES:
        raise InvalidInput(f"state: one of {', '.join(DELIVERY_STATES)}")
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return list(session.scalars(query))


def list_attempts(*, session: Session, delivery_id: int) -> list[WebhookAttempt]:
    """A delivery's attempts, oldest first (NotFound for an unknown delivery)."""
    get_delivery(session=session, delivery_id=delivery_id)
    return attempts_of(session=session, delivery_ids=[delivery_id]).get(delivery_id, [])


def attempts_of(*, session: Session, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """Attempts of several deliveries, by delivery, oldest first."""
    found: dict[int, list[WebhookAttempt]] = {}
    if not delivery_ids:
        return found
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id)
    )
    for attempt in session.scalars(query):
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def redeliver(*, session: Session, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Sends a delivery again now, with the same webhook-id (409 while it is being sent)."""
    delivery = get_delivery(session=session, delivery_id=delivery_id)
    if delivery.state == "delivering":
        raise Conflict("this delivery is being sent right now; try again in a moment")
    endpoint = get_endpoint(session=session, endpoint_id=delivery.endpoint_id)
    if not endpoint.enabled and delivery.event_type != rules.TEST_EVENT_TYPE:
        raise Conflict("the endpoint is disabled: enable it before redelivering")
    delivery.state, delivery.next_attempt_at, delivery.job_id = "pending", now, None
    session.flush()
    schedule(session=session, delivery=delivery, now=now)
    return delivery
