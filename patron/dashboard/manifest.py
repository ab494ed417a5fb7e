"""Manifest of the dashboard shell and its overview page."""

from pathlib import Path

from patron.dashboard import overview, views
from patron.manifest import Manifest, NavItem

manifest = Manifest(
    name="dashboard",
    routers=(views.router, overview.router),
    nav=(NavItem("/", "Overview", order=0),),
    templates=Path(__file__).parent / "templates",
)
