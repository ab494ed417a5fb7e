"""Manifest of coupons: campaigns, codes, redemptions, offers; contributions elsewhere.

Contributes a `loyalty.reward_kinds` item (a plain object with `name` = "coupon" and
`fulfil(session=, customer_id=, reward_config=, key=, now=)`, duck-typed so coupons never
imports loyalty), the journey step `issue_coupon` and the template names `coupon_codes` and
`personal_coupon`. Owns the extension point `coupons.tiers`: providers
`(session=, customer_ids=) -> {customer_id: tier}` for tier gating (without one, the
customer attribute `tier` is read).
"""

from pathlib import Path

from patron.coupons import api, cli, events, offers, reactions, tables, views
from patron.journeys.steps import StepType
from patron.manifest import Consumer, Manifest, NavItem, Panel

manifest = Manifest(
    name="coupons",
    routers=(api.router, api.shop_router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(Consumer(reactions.CONSUMER, reactions.EVENT_TYPES, reactions.on_orders),),
    contributes={
        "loyalty.reward_kinds": (reactions.CouponRewardKind(),),
        "journeys.steps": (
            StepType("issue_coupon", reactions.step_fields, reactions.step_perform),
        ),
        "messages.context": (reactions.message_context,),
    },
    nav=(NavItem("/coupons", "Coupons", order=60),),
    panels=(Panel("coupons", "coupons/panel.html", offers.panel_context, order=78),),
    templates=Path(__file__).parent / "templates",
)
