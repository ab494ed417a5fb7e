"""Manifest of auth: API keys and dashboard users."""

from patron.auth import api, cli, tables
from patron.manifest import Manifest

manifest = Manifest(name="auth", routers=(api.router,), commands=cli.register, tables=(tables,))
