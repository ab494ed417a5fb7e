"""Manifest of advocates: the advocacy score (a consumer crediting promoters, referrals,
reviews, attendance and community activity), the ambassador provider of analytics, the
community webhooks and the ambassadors page.

Extension point `advocates.perks`: providers `(session=, customer_ids=) -> {id: [str]}` add
the perks an ambassador gets (a loyalty tier, an offer), shown on the ambassadors page.
"""

from pathlib import Path

from patron.advocates import api, cli, events, inbound, rules, service, tables, views
from patron.config import Setting
from patron.manifest import Consumer, Manifest, NavItem, Panel

manifest = Manifest(
    name="advocates",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(Consumer(service.CONSUMER, service.EVENT_TYPES, service.on_events, batch=1000),),
    nav=(NavItem("/ambassadors", "Ambassadors", order=62),),
    panels=(Panel("advocacy", "advocates/panel.html", views.panel_context, order=79),),
    settings=(
        Setting(
            service.WEIGHTS_SETTING,
            rules.DEFAULT_WEIGHTS,
            "Points of each part of the advocacy score: promoter answers, qualified referrals, "
            "approved reviews, events attended, community activity (`part=points,...`).",
        ),
        Setting(
            service.THRESHOLD_SETTING,
            "10",
            "Advocacy score from which a customer who bought is in the ambassador lifecycle "
            "stage (at the next refresh).",
        ),
        Setting(
            service.PERKS_SETTING,
            "",
            "Perks every ambassador gets, separated by `;`, shown on the ambassadors page.",
        ),
        Setting(
            inbound.GENERIC_SECRET,
            "",
            "Standard Webhooks secret (`whsec_` + base64) of the generic community webhook "
            "(POST /hooks/community); refused while empty.",
        ),
        Setting(
            inbound.DISCOURSE_SECRET,
            "",
            "Secret of the Discourse webhook (POST /hooks/community/discourse), checked against "
            "X-Discourse-Event-Signature; refused while empty.",
        ),
    ),
    contributes={"analytics.advocates": (service.advocates,)},
    templates=Path(__file__).parent / "templates",
)
