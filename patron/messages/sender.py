"""The sender: a job that drains one lane of the outbox, rendering and sending in batches.

Why a job and not a worker lane of its own: the worker already runs one lane per queue with
leases, a heartbeat and retries, and a capability adds work to it only through its manifest.
So `messages.send` is a `JobHandler(outside=True)`: with payload `{"lane": "transactional"}`
it runs on the `transactional` queue (API sends, never behind a broadcast) and sends
transactional rows; with `{"lane": "bulk"}` it runs on `default` and sends marketing rows.
Queueing a message wakes its lane (`wake`: a job deduplicated per lane, several for bulk);
a job sends batches for up to JOB_SECONDS and then enqueues its own continuation while rows
remain, or one at the time the next row is due (a retry, a lease to expire). A schedule every
minute wakes both lanes as a safety net.

Each batch: one transaction expires stale leases, claims rows (SKIP LOCKED), checks consent and
suppression at send time and stores Message-IDs; rendering reads contexts in a second one
(the next batch is claimed and rendered in a second thread while one is sent); then no
transaction is open while a message is sent. Each outcome is committed together with the start
of the next attempt, two one-row UPDATEs on a connection kept for the batch, so a killed sender
leaves at most one row per connection whose fate is unknown (see `outbox`). A worker should
claim one job at a time (PATRON_WORKER_BATCH=1) to run one sender per worker in parallel.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from patron.config import load_settings
from patron.db import transaction
from patron.jobs import service as jobs
from patron.messages import (
    channels,
    context,
    links,
    outbox,
    pacing,
    preferences,
    rendering,
    rules,
    sources,
)
from patron.messages.config import MessageConfig, from_env

log = logging.getLogger("patron.messages")
SEND_JOB = "messages.send"
BULK_JOB = "messages.send.bulk"
# lane -> (kind of rows it sends, job queue it runs on, job kind)
LANES = {
    "transactional": ("transactional", "transactional", SEND_JOB),
    "bulk": ("marketing", "default", BULK_JOB),
}
# Short, so that sibling jobs one worker claimed together are soon spread over the workers:
# each continuation is a new job that any idle worker may claim.
JOB_SECONDS = 5.0


def current_config() -> MessageConfig:
    """The sending settings of this process."""
    return from_env(load_settings().secret_key)


def lane_of(kind: str) -> str:
    """The lane that sends rows of a kind."""
    return "transactional" if kind == "transactional" else "bulk"


def wake(
    session: Session,
    *,
    lane: str,
    now: datetime,
    run_at: datetime | None = None,
    key: str | None = None,
    senders: int = 1,
) -> int:
    """Enqueue sender jobs for a lane (deduplicated: an already waiting one suffices)."""
    _, queue, job_kind = LANES[lane]
    made = 0
    for n in range(1 if key else senders):
        dedupe = key or f"{job_kind}:wake:{n}"
        made += (
            jobs.enqueue(
                session=session,
                kind=job_kind,
                payload={"lane": lane},
                run_at=run_at or now,
                now=now,
                dedupe_key=dedupe,
                queue=queue,
                max_attempts=10,
            )
            is not None
        )
    return made


def _render_all(
    sessions: sessionmaker[Session], config: MessageConfig, rows: list[outbox.Claimed]
) -> tuple[list[channels.Envelope], list[tuple[int, str]]]:
    """Envelopes for the rows, and (row id, error) for those that cannot be rendered."""
    with transaction(sessions) as session:
        templates = sources.load(session, {r.template_id for r in rows})
        contexts = context.contexts(session=session, customer_ids={r.customer_id for r in rows})
    envelopes, failures = [], []
    for row in rows:
        template = templates.get(row.template_id)
        if template is None or not template.by_locale:
            failures.append((row.id, "render: the template was deleted"))
            continue
        url = links.unsubscribe_url(
            config.public_url, config.secret_key, customer_id=row.customer_id, outbox_id=row.id
        )
        prefs = preferences.preferences_url(
            config.public_url, config.secret_key, customer_id=row.customer_id
        )
        values = {
            **contexts.get(row.customer_id, {}),
            **context.message_extras(unsubscribe_url=url, preferences_url=prefs, data=row.data),
        }
        try:
            rendered = rendering.render(template.for_locale(row.locale), values)
        except rendering.RenderError as exc:
            failures.append((row.id, f"render: {exc.message}"))
            continue
        html, text = rendered.html, rendered.text
        if row.channel == "email":
            text = links.track_text(
                text, config.public_url, config.secret_key, outbox_id=row.id, keep={url}
            )
            html = links.track(
                html,
                config.public_url,
                config.secret_key,
                outbox_id=row.id,
                honeypot=row.kind == "marketing",
                pixel=config.track_opens,
                keep={url},
            )
        envelopes.append(
            channels.Envelope(
                to=row.address,
                subject=rendered.subject,
                html=html,
                text=text,
                message_id=row.message_id,
                customer_id=row.customer_id,
                kind=row.kind,
                channel=row.channel,
                outbox_id=row.id,
                preheader=rendered.preheader,
                unsubscribe_url=url,
            )
        )
    return envelopes, failures


def send_batch(
    sessions: sessionmaker[Session],
    config: MessageConfig,
    *,
    lane: str,
    worker: str,
    clock: Callable[[], datetime],
    senders: dict[str, channels.Sender] | None = None,
) -> int:
    """Claim, screen, render and send one batch of a lane; returns how many were claimed.

    `senders` (channel -> open sender) lets a caller keep connections across batches; without
    it they are opened for this batch and closed after it.
    """
    count, envelopes = prepare_batch(sessions, config, lane=lane, worker=worker, clock=clock)
    if not count:
        return 0
    owned = senders is None
    senders = {} if senders is None else senders
    try:
        _send_all(sessions, config, envelopes, worker=worker, clock=clock, senders=senders)
    finally:
        if owned:
            close_all(senders)
    return count


def prepare_batch(
    sessions: sessionmaker[Session],
    config: MessageConfig,
    *,
    lane: str,
    worker: str,
    clock: Callable[[], datetime],
) -> tuple[int, list[channels.Envelope]]:
    """Claim, screen and render one batch: (rows claimed, envelopes ready to send).

    Rows that cannot be rendered are recorded as failed here; none is attempted yet, so a
    sender stopped now leaves them to be queued again when its lease runs out.
    """
    kind = LANES[lane][0]
    with transaction(sessions) as session:
        outbox.expire_leases(session, now=clock(), policy=config.uncertain_policy)
        outbox.log_sent(session, now=clock())
        claimed = outbox.claim(
            session,
            worker=worker,
            now=clock(),
            lease_seconds=config.lease_seconds,
            limit=config.batch,
            kind=kind,
        )
        ready = outbox.screen(session, claimed, domain=config.domain, now=clock())
        ready = pacing.pace(session, ready, now=clock(), cap=config.cap, quiet=config.quiet)
    if not claimed:
        return 0, []
    envelopes, failures = _render_all(sessions, config, ready)
    if failures:
        with transaction(sessions) as session:
            for outbox_id, error in failures:
                outbox.start_attempt(session, outbox_id=outbox_id, worker=worker, now=clock())
                outbox.record(
                    session,
                    outbox_id=outbox_id,
                    worker=worker,
                    outcome=rules.SendOutcome("permanent", error),
                    now=clock(),
                )
    return len(claimed), envelopes


def close_all(senders: dict[str, channels.Sender]) -> None:
    """Close the open senders (QUIT their connections)."""
    for sender in senders.values():
        sender.close()
    senders.clear()


def _step(conn, sessions, done: dict | None, start: dict | None) -> bool:
    """One commit: the outcome of the last attempt and the start of the next; False if lost.

    A delivered message is one UPDATE beside the next one's, on the connection the sender
    keeps for its batch; any other outcome (rare) goes through the ORM in its own transaction.
    """
    if done is not None and done["outcome"].kind != "sent":
        with transaction(sessions) as session:
            outbox.record(session, **done)
        done = None
    with conn.begin():
        if done is not None:
            outbox.record_sent(
                conn,
                outbox_id=done["outbox_id"],
                worker=done["worker"],
                now=done["now"],
                subject=done["subject"],
            )
        return start is None or outbox.start_attempt(conn, **start)


def _send_all(sessions, config: MessageConfig, envelopes, *, worker: str, clock, senders) -> None:
    """Send one by one; each outcome is recorded in the transaction that starts the next."""
    if not envelopes:
        return
    try:
        with sessions.kw["bind"].connect() as conn:
            _send_on(conn, sessions, config, envelopes, worker=worker, clock=clock, senders=senders)
    finally:
        with transaction(sessions) as session:
            outbox.log_sent(session, now=clock())


def _send_on(conn, sessions, config, envelopes, *, worker: str, clock, senders) -> None:
    """`_send_all` with one database connection held (no pool checkout per message)."""
    done: dict | None = None
    renewed = time.monotonic()
    for envelope in envelopes:
        if time.monotonic() - renewed > config.lease_seconds / 3:
            with transaction(sessions) as session:
                outbox.renew(
                    session, worker=worker, now=clock(), lease_seconds=config.lease_seconds
                )
            renewed = time.monotonic()
        start = dict(outbox_id=envelope.outbox_id, worker=worker, now=clock())
        held = _step(conn, sessions, done, start)
        done = None
        if not held:
            continue  # the lease ran out and another sender took over
        sender = senders.get(envelope.channel)
        if sender is None:
            sender = senders[envelope.channel] = channels.open_sender(
                config, envelope.channel, sessions=sessions, clock=clock
            )
        outcome = sender.send(envelope)
        done = dict(
            outbox_id=envelope.outbox_id,
            worker=worker,
            outcome=outcome,
            now=clock(),
            subject=envelope.subject,
        )
    if done is not None:
        _step(conn, sessions, done, None)


def _send_for(sessions, config: MessageConfig, *, lane: str, worker: str, clock) -> int:
    """Send batches for up to JOB_SECONDS over kept connections; returns how many claimed.

    The next batch is claimed and rendered in a second thread while this one is sent: the
    sending thread mostly waits for the server's replies and the database's commits.
    """
    prepare = functools.partial(
        prepare_batch, sessions, config, lane=lane, worker=worker, clock=clock
    )
    started, claimed, senders = time.monotonic(), 0, {}
    with ThreadPoolExecutor(1, thread_name_prefix="messages-render") as pool:
        pending = pool.submit(prepare)
        try:
            while pending is not None:
                count, envelopes = pending.result()
                claimed += count
                more = count > 0 and time.monotonic() - started < JOB_SECONDS
                pending = pool.submit(prepare) if more else None
                _send_all(sessions, config, envelopes, worker=worker, clock=clock, senders=senders)
        finally:
            close_all(senders)
    return claimed


def send_job(*, ctx, now: datetime, payload: dict) -> str:
    """The `messages.send` job: batches of one lane, then its continuation if work remains."""
    lane = payload.get("lane", "transactional")
    if lane not in LANES:
        return f"unknown lane {lane!r}"
    config = current_config()
    worker = f"{ctx.job.token}/{ctx.job.id}"
    claimed = _send_for(ctx.sessions, config, lane=lane, worker=worker, clock=ctx.clock)
    with transaction(ctx.sessions) as session:
        due = outbox.next_due(session, kind=LANES[lane][0])
        if due is not None:
            at = max(due, ctx.clock())
            key = f"{LANES[lane][2]}:at:{at.isoformat()}"
            wake(session, lane=lane, now=ctx.clock(), run_at=at, key=key)
    return f"{claimed} claimed"
