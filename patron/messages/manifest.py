"""Manifest of messages: templates, the outbox and its sender, channels, the mailbox."""

from pathlib import Path

from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule
from patron.messages import (
    api,
    broadcast_views,
    broadcasts,
    broadcasts_api,
    cli,
    config,
    conversions,
    editor_views,
    events,
    optin,
    panel,
    sender,
    tables,
    views,
)

manifest = Manifest(
    name="messages",
    routers=(
        api.router,
        broadcasts_api.router,
        broadcast_views.router,
        views.router,
        editor_views.router,
    ),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(
        Consumer(conversions.CONSUMER, conversions.EVENT_TYPES, conversions.on_order_completed),
        Consumer(optin.CONSUMER, optin.EVENT_TYPES, optin.on_consent_changed),
    ),
    panels=(Panel("messages", "messages/panel.html", panel.context, order=70),),
    jobs=(
        JobHandler(sender.SEND_JOB, sender.send_job, queue="transactional", outside=True),
        JobHandler(sender.BULK_JOB, sender.send_job, queue="default", outside=True),
        JobHandler(broadcasts.TICK_JOB, broadcasts.tick_job, queue="default"),
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
        # Starts scheduled broadcasts and marks finished ones sent.
        Schedule(broadcasts.TICK_JOB, lambda settings: 1, queue="default"),
    ),
    nav=(
        NavItem("/broadcasts", "Broadcasts", order=58),
        NavItem("/messages/templates", "Messages", order=60),
        NavItem("/messages/suppressions", "Suppressions", order=61),
    ),
    settings=config.SETTINGS,
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
)
