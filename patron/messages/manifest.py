"""Manifest of messages: templates, the outbox and its sender, channels, the mailbox."""

from pathlib import Path

from patron.manifest import JobHandler, Manifest, NavItem, Schedule
from patron.messages import api, cli, config, editor_views, sender, tables, views

manifest = Manifest(
    name="messages",
    routers=(api.router, views.router, editor_views.router),
    commands=cli.register,
    tables=(tables,),
    jobs=(
        JobHandler(sender.SEND_JOB, sender.send_job, queue="transactional", outside=True),
        JobHandler(sender.BULK_JOB, sender.send_job, queue="default", outside=True),
    ),
    schedules=(
        # The safety net that wakes each lane every minute (queueing wakes them at once).
        Schedule(
            sender.SEND_JOB,
            lambda settings: 1,
            queue="transactional",
            payload=lambda settings: {"lane": "transactional"},
        ),
        Schedule(
            sender.BULK_JOB,
            lambda settings: 1,
            queue="default",
            payload=lambda settings: {"lane": "bulk"},
        ),
    ),
    nav=(NavItem("/messages/templates", "Messages", order=60),),
    settings=config.SETTINGS,
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
)
