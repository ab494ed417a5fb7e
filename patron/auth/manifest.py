"""Manifest of auth: API keys, dashboard users, their sessions and account pages."""

from pathlib import Path

from patron.auth import api, cli, tables, views
from patron.manifest import Manifest

manifest = Manifest(
    name="auth",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    templates=Path(__file__).parent / "templates",
)
