"""Manifest of gatherings: appreciation events and webinars, invitations, RSVPs, reminders,
attendance (CSV, webhook, check-in), the RSVP links in messages' template context."""

from pathlib import Path

from patron.config import Setting
from patron.gatherings import (
    api,
    cli,
    context,
    events,
    inbound,
    public,
    service,
    tables,
    tracked,
    views,
)
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule

REMIND_JOB = "gatherings.remind"

manifest = Manifest(
    name="gatherings",
    routers=(api.router, public.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    # Invited, RSVP and attended as tracked events, for segment conditions and journey triggers.
    consumers=(Consumer(tracked.CONSUMER, tracked.TYPES, tracked.on_events, batch=200),),
    jobs=(JobHandler(REMIND_JOB, service.reminders_job, queue="default"),),
    # Every 5 minutes: the day-before and hour-before reminders; each is queued once per guest.
    schedules=(Schedule(REMIND_JOB, lambda settings: 5, queue="default"),),
    nav=(NavItem("/gatherings", "Events", order=60),),
    panels=(Panel("gatherings", "gatherings/panel.html", views.panel_context, order=78),),
    settings=(
        Setting(
            inbound.SECRET_SETTING,
            "",
            "Standard Webhooks secret (`whsec_` + base64) that the webinar tool signs attendance "
            "webhooks with (POST /hooks/gatherings/attendance); refused while empty.",
        ),
    ),
    contributes={"messages.context": (context.message_context,)},
    templates=Path(__file__).parent / "templates",
)
