"""Manifest of imports: CSV and CDNOW import."""

from patron.imports import cli
from patron.manifest import Manifest

manifest = Manifest(name="imports", commands=cli.register)
