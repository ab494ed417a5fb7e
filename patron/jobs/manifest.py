"""Manifest of the durable job queue (kernel): its tables, the worker, pruning."""

from patron.jobs import cli, service, tables, worker
from patron.manifest import JobHandler, Manifest, Schedule

PRUNE_JOB = "jobs.prune"


def prune_job(*, session, now, payload) -> None:
    """Deletes finished jobs older than the retention (payload `keep_hours`)."""
    service.prune(session=session, now=now, keep_hours=int(payload.get("keep_hours", 168)))


manifest = Manifest(
    name="jobs",
    commands=cli.register,
    tables=(tables,),
    setup_app=worker.install_in_process,
    jobs=(JobHandler(PRUNE_JOB, prune_job, queue="bulk"),),
    schedules=(
        Schedule(
            PRUNE_JOB,
            lambda settings: 60,
            queue="bulk",
            payload=lambda settings: {"keep_hours": settings.job_retention_hours},
        ),
    ),
)
