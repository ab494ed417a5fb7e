"""Pure rules of jobs: retry back-off, schedule slots, lease tokens."""

from __future__ import annotations

from datetime import datetime, timedelta


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after a failed attempt: 30 s, 1 min, 2 min ... capped at 1 hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def schedule_slot(now: datetime, every_minutes: int) -> int:
    """The number of the schedule period `now` falls in; one job per slot is enqueued."""
    return int(now.timestamp() // (every_minutes * 60))


def lease_token(worker_id: str, attempts: int) -> str:
    """A fencing token: who holds the job, for which attempt."""
    return f"{worker_id}#{attempts}"
