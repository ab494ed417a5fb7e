"""Manifest of customer data: profiles, consent, identities, products, orders, events."""

from pathlib import Path

from patron.customers import api, cli, context, events, tables, views
from patron.manifest import Manifest, NavItem

manifest = Manifest(
    name="customers",
    routers=(views.router, api.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    nav=(NavItem("/customers", "Customers", order=20),),
    contributes={"messages.context": (context.message_context,)},
    templates=Path(__file__).parent / "templates",
)
