"""Manifest of the event log (kernel): its tables, status commands, pruning."""

from patron.events import cli, service, tables
from patron.manifest import JobHandler, Manifest, Schedule

PRUNE_JOB = "events.prune"


def prune_job(*, session, now, payload) -> None:
    """Deletes old events every consumer has read (payload `keep_days`)."""
    service.prune(session=session, now=now, keep_days=int(payload.get("keep_days", 30)))


manifest = Manifest(
    name="events",
    commands=cli.register,
    tables=(tables,),
    jobs=(JobHandler(PRUNE_JOB, prune_job, queue="bulk"),),
    schedules=(
        Schedule(
            PRUNE_JOB,
            lambda settings: 60,
            queue="bulk",
            payload=lambda settings: {"keep_days": settings.event_retention_days},
        ),
    ),
)
