"""Manifest of tracking: the Segment-compatible tracking API."""

from patron.manifest import Manifest
from patron.tracking import api

manifest = Manifest(name="tracking", routers=(api.router,), setup_app=api.install)
