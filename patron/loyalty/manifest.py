"""Manifest of loyalty: ledger, tiers, rewards, the earning consumer, the periodic job, API.

Extension point `loyalty.reward_kinds`: capabilities contribute `rewards.RewardKind`s
(coupons adds "coupon"); built-ins are "free_product" and "custom".
"""

from pathlib import Path

from patron.loyalty import api, cli, conditions, contrib, earning, events, maintain, tables, views
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule

manifest = Manifest(
    name="loyalty",
    routers=(api.shop, api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    # Large batches: a bulk import's orders earn set-based, thousands per statement.
    consumers=(Consumer(earning.CONSUMER, earning.EVENT_TYPES, earning.on_events, batch=5000),),
    jobs=(JobHandler(maintain.JOB, maintain.run),),
    schedules=(Schedule(maintain.JOB, lambda settings: maintain.EVERY_MINUTES),),
    panels=(Panel("loyalty", "loyalty/panel.html", views.panel_context, order=70),),
    nav=(NavItem("/loyalty", "Loyalty", order=58),),
    contributes={
        "messages.context": (contrib.message_context,),
        "journeys.steps": (contrib.GIVE_POINTS,),
        "segments.conditions": (conditions.CONDITION,),
        "coupons.tiers": (contrib.tiers,),
        "advocates.perks": (contrib.perks,),
    },
    templates=Path(__file__).parent / "templates",
)
