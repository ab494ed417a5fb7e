"""Manifest of admin: dashboard pages over other capabilities' services (no tables of its own)."""

from pathlib import Path

from patron.admin import access, upload, views
from patron.manifest import Manifest, NavItem

manifest = Manifest(
    name="admin",
    routers=(views.router, access.router, upload.router),
    nav=(NavItem("/admin", "Admin", order=90),),
    templates=Path(__file__).parent / "templates",
    setup_app=upload.exempt_from_body_limit,
)
