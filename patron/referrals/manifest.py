"""Manifest of referrals: codes, attribution consumer, the qualification job, pages, API."""

from pathlib import Path

from patron.config import Setting
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule
from patron.referrals import (
    api,
    board,
    cli,
    conditions,
    events,
    qualify,
    reactions,
    service,
    tables,
    views,
)

manifest = Manifest(
    name="referrals",
    routers=(api.router, api.shop_router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(Consumer(reactions.CONSUMER, reactions.EVENT_TYPES, reactions.on_events),),
    jobs=(JobHandler(qualify.QUALIFY_JOB, qualify.qualify_job),),
    schedules=(Schedule(qualify.QUALIFY_JOB, lambda settings: qualify.EVERY_MINUTES),),
    contributes={
        "messages.context": (reactions.message_context,),
        "segments.conditions": (conditions.CONDITION,),
    },
    settings=(
        Setting(
            service.SHOP_URL_SETTING,
            "",
            "Shop address that referral share links point to (`?ref=CODE` is added); empty: "
            "no link, only the code.",
        ),
    ),
    nav=(NavItem("/referrals", "Referrals", order=62),),
    panels=(Panel("referrals", "referrals/panel.html", board.panel_context, order=79),),
    templates=Path(__file__).parent / "templates",
)
