"""The webhook and notify steps: rows queued in the step's transaction, outside effects in jobs.

`webhook` queues a `WebhookCall` under the step's idempotency key (version, step, enrolment,
iteration) and a `journeys.webhook` job; the job POSTs it outside any transaction inside
`ctx.effect` (one effect key per attempt, so an attempt is never made twice), signed the way
patron/webhooks signs (Standard Webhooks; `webhook-id` is the key, for receivers to dedupe).
A non-2xx answer or a network error is retried with the webhooks back-off, then the call is
parked `failed` with the reason; a worker that stopped mid-POST leaves it `uncertain`.

`notify` renders its line for the customer (sandboxed, like a subject) into a
`TeamNotification` (the dashboard lists them) and, with `email` and
PATRON_JOURNEYS_NOTIFY_EMAIL set, queues it to that address on messages' transactional lane.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.jobs import service as jobs
from patron.journeys.tables import TeamNotification, WebhookCall
from patron.messages import service as messages
from patron.webhooks import delivery
from patron.webhooks import rules as signing

KINDS = frozenset({"webhook", "notify"})
WEBHOOK_JOB = "journeys.webhook"
SECRET_SETTING = "PATRON_JOURNEYS_WEBHOOK_SECRET"
EMAIL_SETTING = "PATRON_JOURNEYS_NOTIFY_EMAIL"
NOTIFY_TEMPLATE = "Journey team notification"
NOTIFY_SOURCE = "journey-notify"


def perform(session: Session, kind: str, *, e, step, customer: Customer, key: str, now) -> dict:
    """Do a webhook or notify step's database part; returns the step-run detail."""
    if kind == "webhook":
        return queue_webhook(session, e=e, step=step, customer=customer, key=key, now=now)
    return notify(session, e=e, fields=step.fields, customer=customer, key=key, now=now)


# Webhook --------------------------------------------------------------------------------------


def secret() -> str:
    """The signing secret; a step cannot be performed without one."""
    value = os.environ.get(SECRET_SETTING, "").strip()
    if not value:
        raise RuntimeError(f"{SECRET_SETTING} is not set: webhook steps cannot be signed")
    signing.secret_bytes(value)
    return value


def queue_webhook(session: Session, *, e, step, customer: Customer, key: str, now) -> dict:
    """The durable call and the job that sends it."""
    secret()
    payload = {
        "type": "journey.webhook",
        "id": key,
        "journey_id": e.journey_id,
        "version_id": e.version_id,
        "step": step.id,
        "enrolment_id": e.id,
        "customer": {
            "id": customer.id,
            "external_id": customer.external_id,
            "email": customer.email,
        },
        "data": step.fields["data"],
        "at": now.isoformat(),
    }
    row = WebhookCall(
        key=key,
        journey_id=e.journey_id,
        enrolment_id=e.id,
        customer_id=customer.id,
        url=step.fields["url"],
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _schedule(session, row, now)
    return {"webhook_call_id": row.id}


def _schedule(session: Session, row: WebhookCall, now: datetime) -> None:
    """The job of the call's next attempt."""
    jobs.enqueue(
        session=session,
        kind=WEBHOOK_JOB,
        payload={"call": row.id},
        run_at=row.next_attempt_at or now,
        now=now,
        dedupe_key=f"{WEBHOOK_JOB}:{row.id}:{row.attempts}",
        queue="default",
        max_attempts=3,
    )


def _start(session: Session, call_id: int, now: datetime):
    """The attempt to make now, or None when there is none."""
    row = session.get(WebhookCall, call_id, with_for_update=True)
    if row is None or row.state != "pending":
        return None
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return None  # an early wake-up: the attempt's own job comes later
    body = signing.body_bytes(row.payload)
    return row.attempts + 1, delivery.Outgoing(row.id, row.key, row.url, secret(), body)


def _record(session: Session, call_id: int, attempt: int, result, now: datetime) -> str:
    """Store how an attempt ended and what follows: succeeded, a retry, failed, uncertain."""
    row = session.get(WebhookCall, call_id, with_for_update=True)
    if row is None or row.state != "pending" or row.attempts != attempt - 1:
        return "recorded already"
    row.attempts = attempt
    status, error = result.outcome.get("status"), result.outcome.get("error")
    row.last_status_code, row.last_error = status, error
    if result.state == "uncertain":
        row.state, row.finished_at = "uncertain", now
        row.last_error = error or "the outcome of the POST is unknown"
        return "uncertain"
    if signing.is_success(status):
        row.state, row.finished_at, row.next_attempt_at = "succeeded", now, None
        return "succeeded"
    delay = signing.next_attempt_delay(attempt)
    if delay is None:
        row.state, row.finished_at, row.next_attempt_at = "failed", now, None
        return "failed"
    row.next_attempt_at = now + delay
    _schedule(session, row, now)
    return "retry"


def webhook_job(*, ctx, now: datetime, payload: dict) -> str:
    """The `journeys.webhook` job: one attempt, POSTed outside any transaction, once only."""
    call_id = int(payload["call"])
    with ctx.transaction() as session:
        started = _start(session, call_id, ctx.clock())
    if started is None:
        return "skipped"
    attempt, outgoing = started

    def post() -> dict:
        outcome = delivery.post(outgoing, now=ctx.clock(), timeout=delivery.timeout_seconds())
        return {"status": outcome.status_code, "error": outcome.error}

    result = ctx.effect(f"{WEBHOOK_JOB}:{outgoing.msg_id}:{attempt}", post)
    with ctx.transaction() as session:
        return _record(session, call_id, attempt, result, ctx.clock())


# Notify ---------------------------------------------------------------------------------------


def _notify_template(session: Session, now: datetime) -> int:
    """The template of team notification mail, created through messages on first use."""
    for template in messages.list_templates(session=session):
        if template.name == NOTIFY_TEMPLATE:
            return template.id
    data = messages.TemplateInput(
        name=NOTIFY_TEMPLATE,
        kind="transactional",
        variants=[
            messages.VariantInput(
                subject="{{ data.line }}",
                body="<p>{{ data.line }}</p><p>Sent by a Patron journey's notify step.</p>",
            )
        ],
    )
    return messages.create_template(session=session, data=data, now=now).id


def notify(session: Session, *, e, fields: dict, customer: Customer, key: str, now) -> dict:
    """The rendered line as a team notification, and as mail when configured."""
    line = messages.render_line(session=session, text=fields["line"], customer_id=customer.id)
    row = TeamNotification(
        key=key, journey_id=e.journey_id, customer_id=customer.id, line=line, created_at=now
    )
    address = os.environ.get(EMAIL_SETTING, "").strip()
    if fields["email"] and address:
        mail = messages.send_to_address(
            session=session,
            template_id=_notify_template(session, now),
            address=address,
            customer_id=customer.id,
            source=NOTIFY_SOURCE,
            occurrence=key,
            data={"line": line},
            now=now,
        )
        row.outbox_id = mail.id
    session.add(row)
    session.flush()
    return {"notification_id": row.id, "outbox_id": row.outbox_id}


def notifications(*, session: Session, limit: int = 50) -> list[TeamNotification]:
    """The newest team notifications."""
    query = select(TeamNotification).order_by(TeamNotification.id.desc()).limit(limit)
    return list(session.scalars(query))
