"""Manifest of reviews: requests after purchase, the public form, moderation, the shop's API."""

from pathlib import Path

from patron.config import Setting
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Schedule
from patron.reviews import api, cli, context, events, public, service, tables, views

CONSUMER = "reviews.orders"
SEND_JOB = "reviews.send_due"

manifest = Manifest(
    name="reviews",
    routers=(api.router, public.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(
        Consumer(CONSUMER, frozenset({"order.completed", "order.cancelled"}), service.on_orders),
    ),
    jobs=(JobHandler(SEND_JOB, service.send_due, queue="default", max_attempts=3),),
    schedules=(Schedule(SEND_JOB, lambda settings: 15, queue="default"),),
    nav=(NavItem("/reviews", "Reviews", order=66),),
    settings=(
        Setting(
            service.DELAY_SETTING,
            "7",
            "Days after an order before its products' review request is mailed (once per "
            "customer and product).",
        ),
    ),
    contributes={"messages.context": (context.message_context,)},
    templates=Path(__file__).parent / "templates",
)
