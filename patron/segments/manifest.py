"""Manifest of segments: rule trees, saved segments, memberships."""

from pathlib import Path

from patron.manifest import Manifest, NavItem
from patron.segments import api, cli, service, tables, views

manifest = Manifest(
    name="segments",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    nav=(NavItem("/segments", "Segments", order=40),),
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
    setup_app=api.install,
    contributes={"customers.activity": (service.update_for_customers,)},
)
