"""Manifest of customer data: profiles, consent, identities, products, orders, events."""

from pathlib import Path

from patron.customers import api, cli, tables, views
from patron.manifest import Manifest, NavItem

manifest = Manifest(
    name="customers",
    routers=(views.router, api.router),
    commands=cli.register,
    tables=(tables,),
    nav=(NavItem("/customers", "Customers", order=20),),
    templates=Path(__file__).parent / "templates",
)
