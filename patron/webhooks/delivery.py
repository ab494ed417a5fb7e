"""Delivering webhooks: the event consumer that creates deliveries, and the job that POSTs them.

At least once. The consumer creates one delivery row per event and subscribed endpoint in the
consumer's own transaction, so exactly once per event per endpoint. The job then marks the
delivery `delivering` (committed), POSTs with no transaction open, and records the attempt in a
short transaction fenced by its lease. A worker killed between the POST and the record leaves
the delivery `delivering` under its job; the same job, claimed again when the lease runs out,
sends again with the same `webhook-id`. Unlike `JobContext.effect`, which never repeats an
effect that may have happened, a webhook prefers a duplicate (receivers dedupe by
`webhook-id`, as Standard Webhooks asks) to a lost event.

Retries. A failed attempt (non-2xx, timeout, connection error) schedules a NEW job at the
back-off time instead of failing the running job: the webhook schedule (30 s ... 24 h) is not the
job queue's, and the queue's attempts stay for crashes. Each delivery is its own job, so a
failing endpoint only delays its own deliveries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.events.types import StoredEvent
from patron.webhooks import rules, service
from patron.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint

CONSUMER = "webhooks.fanout"
USER_AGENT = "Patron-Webhooks/1"


# Settings read by the job at run time (documented in the README through the manifest).
def timeout_seconds(env: Mapping[str, str] = os.environ) -> float:
    """Seconds a POST may take before it counts as a failed attempt."""
    return float(env.get("PATRON_WEBHOOK_TIMEOUT_SECONDS", "10"))


def disable_policy(env: Mapping[str, str] = os.environ) -> rules.DisablePolicy:
    """When a failing endpoint is disabled."""
    return rules.DisablePolicy(
        max_failures=int(env.get("PATRON_WEBHOOK_DISABLE_AFTER_FAILURES", "8")),
        max_failing_hours=float(env.get("PATRON_WEBHOOK_DISABLE_AFTER_HOURS", "24")),
    )


# The consumer -------------------------------------------------------------------------------


class SubscribableTypes(AbstractSet):
    """The consumer's event types, resolved when read (capabilities may add types)."""

    def __iter__(self):
        return iter(service.subscribable_types())

    def __contains__(self, item):
        return item in service.subscribable_types()

    def __len__(self):
        return len(service.subscribable_types())


def fan_out(*, session: Session, events: list[StoredEvent], now: datetime) -> None:
    """One delivery per event and enabled endpoint subscribed to its type (DB only)."""
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)))
    if not endpoints:
        return
    for event in events:
        for endpoint in endpoints:
            # An endpoint gets the events that happen after it was registered.
            if event.type not in (endpoint.event_types or []) or (
                event.occurred_at < endpoint.created_at
            ):
                continue
            payload = rules.event_payload(
                event_type=event.type,
                event_id=event.id,
                customer_id=event.customer_id,
                occurred_at=event.occurred_at,
                data=event.data,
            )
            service.new_delivery(
                session=session,
                endpoint_id=endpoint.id,
                event_id=event.id,
                payload=payload,
                now=now,
            )


# The job --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One attempt to send: where, what, signed with which secret."""

    delivery_pk: int
    msg_id: str
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """How one POST ended."""

    status_code: int | None
    duration_ms: int
    error: str | None
    response_snippet: str | None

    @property
    def succeeded(self) -> bool:
        """A 2xx answer."""
        return rules.is_success(self.status_code)


def start_attempt(
    *, session: Session, delivery_pk: int, job_id: int, now: datetime
) -> Outgoing | None:
    """Marks the delivery as being sent by this job; None when there is nothing to send."""
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if delivery is None or delivery.state in ("succeeded", "failed"):
        return None
    if delivery.state == "delivering" and delivery.job_id != job_id:
        return None  # another job holds it; if its worker died, that job re-sends
    if delivery.state == "pending" and delivery.next_attempt_at and delivery.next_attempt_at > now:
        return None  # an early wake-up: the job of the scheduled attempt will send it
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if not endpoint.enabled and delivery.event_type != rules.TEST_EVENT_TYPE:
        delivery.state, delivery.next_attempt_at = "failed", None
        delivery.last_error = f"endpoint disabled: {endpoint.disabled_reason}"
        return None
    delivery.state, delivery.job_id = "delivering", job_id
    return Outgoing(
        delivery.id,
        delivery.delivery_id,
        endpoint.url,
        endpoint.secret,
        rules.body_bytes(delivery.payload),
    )


def post(outgoing: Outgoing, *, now: datetime, timeout: float) -> Outcome:
    """POSTs the signed body; never raises for HTTP or network trouble."""
    headers = rules.headers(outgoing.secret, outgoing.msg_id, int(now.timestamp()), outgoing.body)
    headers["user-agent"] = USER_AGENT
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(outgoing.url, content=outgoing.body, headers=headers)
        status, error, text = response.status_code, None, rules.snippet(response.text)
        if not rules.is_success(status):
            error = f"HTTP {status}"
    except httpx.TimeoutException as exc:
        status, error, text = None, f"timed out after {timeout:g} s ({type(exc).__name__})", None
    except httpx.HTTPError as exc:
        status, error, text = None, f"{type(exc).__name__}: {exc}"[:2000], None
    duration = int((time.monotonic() - started) * 1000)
    return Outcome(status, duration, error, text)


def record_attempt(
    *,
    session: Session,
    outgoing: Outgoing,
    outcome: Outcome,
    attempted_at: datetime,
    now: datetime,
    policy: rules.DisablePolicy,
) -> str:
    """Stores the attempt and what follows: succeeded, a retry, failed, endpoint disabled."""
    delivery = session.get(WebhookDelivery, outgoing.delivery_pk, with_for_update=True)
    if delivery is None:
        return "gone"  # the endpoint was deleted meanwhile
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=attempted_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_snippet=outcome.response_snippet,
        )
    )
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
    delivery.job_id = None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
    if outcome.succeeded:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
        if endpoint.enabled:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
        return "succeeded"
    reason = _count_failure(endpoint, outcome, now, policy)
    delay = rules.next_attempt_delay(delivery.attempts)
    if reason is not None:
        service.disable_endpoint(session=session, endpoint_id=endpoint.id, now=now, reason=reason)
    if delay is None or (reason is not None and delivery.event_type != rules.TEST_EVENT_TYPE):
        delivery.state, delivery.next_attempt_at = "failed", None
        if reason is not None:
            delivery.last_error = f"{outcome.error}; endpoint disabled: {reason}"
        return "disabled" if reason else "failed"
    delivery.state, delivery.next_attempt_at = "pending", now + delay
    service.schedule(session=session, delivery=delivery, now=now)
    return "retry"


def _count_failure(endpoint, outcome: Outcome, now: datetime, policy) -> str | None:
    """Adds a failed attempt to an enabled endpoint's record; returns why to disable it."""
    if not endpoint.enabled:
        return None
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    return rules.disable_reason(
        consecutive_failures=endpoint.consecutive_failures,
        failing_since=endpoint.failing_since,
        last_status_code=outcome.status_code,
        now=now,
        policy=policy,
    )


def deliver_job(*, ctx, now: datetime, payload: dict) -> str:
    """The `webhooks.deliver` job: claim the delivery, POST outside a transaction, record."""
    delivery_pk = int(payload["delivery"])
    with ctx.transaction() as session:
        outgoing = start_attempt(
            session=session, delivery_pk=delivery_pk, job_id=ctx.job.id, now=ctx.clock()
        )
    if outgoing is None:
        return "skipped"
    attempted_at = ctx.clock()
    outcome = post(outgoing, now=attempted_at, timeout=timeout_seconds())
    with ctx.transaction() as session:
        return record_attempt(
            session=session,
            outgoing=outgoing,
            outcome=outcome,
            attempted_at=attempted_at,
            now=ctx.clock(),
            policy=disable_policy(),
        )
