"""Worker processes send to a real SMTP sink; the one holding a slow DATA is SIGKILLed mid-send.

Nobody receives a message twice (deduped by Message-ID and by recipient at the sink), every
recipient is sent or, for the one in flight on the killed connection, uncertain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from patron.customers.read import Customer
from patron.db import transaction, utcnow
from patron.messages import enqueue, sender
from patron.messages.tables import OutboxMessage
from tests.messages.conftest import NOW, customer, template
from tests.webhooks.test_kill import _owner_of

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 40
KILL_AT = 9


def _worker(db, sink, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db.url,
        "PATRON_SECRET_KEY": "k",
        "PATRON_WORKER_QUEUES": "default",
        "PATRON_WORKER_LEASE_SECONDS": "3",
        "PATRON_REFRESH_INTERVAL_MINUTES": "0",
        "PATRON_MESSAGES_EMAIL_CHANNEL": "smtp",
        "PATRON_SMTP_HOST": "127.0.0.1",
        "PATRON_SMTP_PORT": str(sink.port),
        "PATRON_SMTP_SECURITY": "none",
        "PATRON_MESSAGES_LEASE_SECONDS": "3",
        "PATRON_MESSAGES_BATCH": "5",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "patron", "worker", "--poll", "0.1"]
    command += ["--exit-when-idle", "150", "--worker-id", name]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _open_rows(db) -> int:
    with transaction(db.sessions) as s:
        return s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.state.in_(("queued", "sending")))
        )


def test_a_worker_killed_mid_send_leaves_one_uncertain_row_and_no_duplicate(db, sink):
    sink.delay = lambda n: 6.0 if n == KILL_AT else 0.0
    with transaction(db.sessions) as s:
        for i in range(RECIPIENTS):
            customer(s, i)
        t = template(s)
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=1, now=NOW
        )
        sender.wake(s, lane="bulk", now=utcnow(), senders=2)
    workers = [_worker(db, sink, f"w{i}") for i in range(2)]
    try:
        deadline = time.monotonic() + 60
        while len(sink.received) < KILL_AT and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sink.received) >= KILL_AT, "the workers sent nothing"
        in_flight = sink.received[KILL_AT - 1]
        _owner_of(in_flight.peer[1], workers).send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _open_rows(db) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    ids = Counter(r.message["Message-ID"] for r in sink.received)
    recipients = Counter(r.rcpt[0] for r in sink.received)
    assert max(ids.values()) == 1 and max(recipients.values()) == 1  # nobody got it twice
    assert len(recipients) == RECIPIENTS
    with transaction(db.sessions) as s:
        rows = s.scalars(select(OutboxMessage)).all()
    by_state = Counter(r.state for r in rows)
    assert by_state == {"sent": RECIPIENTS - 1, "uncertain": 1}
    [uncertain] = [r for r in rows if r.state == "uncertain"]
    assert uncertain.message_id == in_flight.message["Message-ID"]  # the one on the killed line
